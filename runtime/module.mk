# runtime/: the iex runtime's library sources (the iex program comes later).
LIB_SRCS += runtime/status.c runtime/crash.c runtime/clock.c runtime/redact.c \
            runtime/store.c runtime/store_sqlite.c runtime/store_sqlite_schema.c
