# common/: the neutral base layer both iexc and iex sit on.
LIB_SRCS += common/util.c common/str.c common/arena.c common/buf.c common/strmap.c
LIB_SRCS += common/decimal.c common/datetime.c common/tz.c
# UTF-8: the one definition of a valid sequence, for every layer above.
LIB_SRCS += common/utf8.c
# The CSV reader of lookup tables: the checker and stdlib/lookup.c share it.
LIB_SRCS += common/csv.c
