# stdlib/: the standard library (stdlib.def), one family per file, lookup
# tables (read by common/csv.c), and the docs/stdlib.md generator.
LIB_SRCS += stdlib/stdlib.c stdlib/str.c stdlib/money.c stdlib/date.c stdlib/list.c \
            stdlib/vat.c stdlib/record.c stdlib/doc.c stdlib/lookup.c

# gendoc prints docs/stdlib.md (tools/gendocs.sh, `make docs`).
PROGRAMS += $(B)/bin/gendoc
$(B)/bin/gendoc: $(B)/tools/gendoc.o $(LIB)
	$(call link-program,$@,$<)
