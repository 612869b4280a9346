# runtime/: the iex runtime's library sources and, later, the `iex` program.
#
# Library sources are appended to LIB_SRCS (linked into libiex.a with the
# rest). The program is added the way every program is: its main object
# plus $(LIB), linked with $(call link-program,...), appended to PROGRAMS.
LIB_SRCS += runtime/status.c runtime/crash.c runtime/clock.c runtime/redact.c \
            runtime/store.c runtime/store_sqlite.c runtime/store_sqlite_transfers.c \
            runtime/store_sqlite_effects.c runtime/store_sqlite_schema.c
# Values and their JSON form (runtime/value.h, runtime/json_value.h).
LIB_SRCS += runtime/value.c runtime/json_value.c
# iex serve and iex import: HTTP server, webhooks, JSON API, poller, backfill.
LIB_SRCS += runtime/serve.c runtime/cmd_serve.c runtime/poller.c \
            runtime/import.c runtime/cmd_import.c
# The sandboxed Lua 5.4 escape hatch (runtime/lua_bridge.h).
LIB_SRCS += runtime/lua_bridge.c

# The `iex` program: runtime/main.c dispatches to the commands of
# runtime/commands.def, which live in the library with their concerns.
PROGRAMS += $(B)/bin/iex
$(B)/bin/iex: $(B)/runtime/main.o $(LIB)
	$(call link-program,$@,$(B)/runtime/main.o)
# Compiled flows and the VM that runs them (runtime/bytecode.h, runtime/vm.h).
LIB_SRCS += runtime/bytecode.c runtime/vm.c
# `iex preview` and `iex map`: flows run without side effects (preview.c).
LIB_SRCS += runtime/preview.c
# The executor: inbox -> transfers -> runs, effects exactly once, retries,
# settings, secrets, the ledger target, and the commands on them.
LIB_SRCS += runtime/executor.c runtime/executor_host.c runtime/executor_script.c runtime/effects.c \
            runtime/retry.c runtime/settings.c runtime/secrets.c runtime/ledger.c
LIB_SRCS += runtime/cmd_common.c runtime/cmd_integration.c runtime/cmd_run.c \
            runtime/cmd_history.c
# Compiled flows as the executor's Flow (flow_vm.c): iex run and serve run .iexb.
LIB_SRCS += runtime/flow_vm.c
# The executor as iex serve's work (serve_work.c).
LIB_SRCS += runtime/serve_work.c
