# connectors/: the shared HTTP core, the registry and one C file per system
# (connectors/<system>/<system>.c, listed in connectors/registry.def).
LIB_SRCS += connectors/rec.c connectors/http.c connectors/registry.c connectors/verify.c
LIB_SRCS += connectors/shopify/shopify.c connectors/woocommerce/woocommerce.c \
            connectors/economic/economic.c connectors/dinero/dinero.c
# Webhook signatures and dedup keys (iex serve).
LIB_SRCS += connectors/webhook.c

# tests/connectors/: the integration tests against the emulators, run by
# tests/connectors/run.sh.
TEST_PROGRAMS += $(B)/tests/connectors/test_connectors
$(B)/tests/connectors/test_connectors: $(B)/tests/connectors/test_connectors.o \
    $(B)/tests/lib/check.o $(LIB)
	$(call link-program,$@,$< $(B)/tests/lib/check.o)
