#!/usr/bin/env bash
# Usage suite: the monthly quota is the built-in setting included_orders of
# each integration (`iex settings get|set`), and `iex usage` shows every
# integration's orders of the month against its own quota, and the total.
# Scripted flow (tests/runtime/data/shop.flowscript) against the ledger
# target (a file). Each case prints "PASS usage/<name>" or "FAIL ...".
set -u
IEX="$IEX_BUILD/bin/iex"
FLOW="$IEX_ROOT/tests/runtime/data/shop.flowscript"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iex-usage-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
export IEX_STORE="$tmp/iex.db"
unset IEX_LEDGER_FAULT IEX_CRASH_AT IEX_QUOTA

SUITE=usage HAS_GREP=-Eq
. "$IEX_ROOT/tests/lib/suite.sh"

# Three integrations of one flow, each with its own ledger; `orders N FILE`
# writes N paid orders.
for n in a b c; do
  "$IEX" integration add "shop_$n" --flow "$FLOW" --activate-at 2024-01-01 \
    --connections '{"books":{"system":"ledger","base_url":"file:'"$tmp"'/ledger_'"$n"'.txt"}}' >/dev/null || exit 2
done
orders() {
  for i in $(seq 1 "$1"); do
    printf '{"id": %d, "name": "#%d", "email": "c%d@example.com", "total": 10, "financial_status": "paid", "updated_at": "2030-01-01T10:00:00Z"}\n' "$i" "$i" "$i"
  done >"$2"
}
orders 5 "$tmp/five.jsonl"
orders 2 "$tmp/two.jsonl"

# ---- the built-in setting ------------------------------------------------
out "$IEX" settings get shop_a
if [ "$(rc)" = 0 ] && has '^included_orders +=  *100 +int >= 0, default, built-in  orders a month' && has '^invoice_mode '; then pass settings_get_lists_builtin_with_default
else fail settings_get_lists_builtin_with_default "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings get shop_a included_orders
if [ "$(rc)" = 0 ] && [ "$(cat "$tmp/out")" = 100 ]; then pass settings_get_builtin_default
else fail settings_get_builtin_default "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings set shop_a included_orders 3
r1=$(rc)
out "$IEX" settings set shop_c included_orders 0
r2=$(rc)
out "$IEX" settings get shop_a included_orders
if [ "$r1$r2$(rc)" = 000 ] && [ "$(cat "$tmp/out")" = 3 ]; then pass settings_set_builtin
else fail settings_set_builtin "rc $r1$r2$(rc)" "$(show_out)"; fi

ok=1
for bad in -1 2.5 ten; do
  out "$IEX" settings set shop_a included_orders "$bad"
  { [ "$(rc)" = 1 ] && has "included_orders is a whole number, 0 or more; .$bad. is not one"; } || { ok=0; break; }
done
out "$IEX" settings get shop_a included_orders
if [ $ok = 1 ] && [ "$(cat "$tmp/out")" = 3 ]; then pass settings_builtin_refuses_what_is_not_a_count
else fail settings_builtin_refuses_what_is_not_a_count "value $bad, rc $(rc)" "$(show_out)"; fi

# iexc keeps its own list of the built-ins' names (compiler/ does not
# include the runtime's settings): it must refuse a flow setting of each.
out "$IEX" settings get shop_a
names=$(awk '/, built-in /{print $1}' "$tmp/out")
ok=1 bn=
for bn in $names; do
  sed "s/included_orders/$bn/g" "$IEX_ROOT/tests/check/err/builtin-setting-name.iexflow" >"$tmp/b.iexflow"
  "$IEX_BUILD/bin/iexc" --check --connectors "$IEX_ROOT/connectors" "$tmp/b.iexflow" >"$tmp/c.out" 2>&1
  grep -q "error\[E0205\]: .$bn. is already a built-in setting" "$tmp/c.out" || { ok=0; break; }
done
if [ -n "$names" ] && [ $ok = 1 ]; then pass iexc_refuses_every_builtin_name
else fail iexc_refuses_every_builtin_name "built-ins: ${names:-none}; not refused: $bn" "$(cat "$tmp/c.out" 2>/dev/null)"; fi

out "$IEX" settings set shop_a included_order 3
if [ "$(rc)" = 1 ] && has "its settings: invoice_mode, cent_threshold, create_customers; built-in: included_orders"; then pass settings_unknown_name_lists_builtins
else fail settings_unknown_name_lists_builtins "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings get shop_a
if has '^included_orders +=  *3 +int >= 0, built-in ' && ! has '^included_orders .*default'; then pass settings_get_shows_set_builtin
else fail settings_get_shows_set_builtin "" "$(show_out)"; fi

# ---- usage: each integration against its own quota -------------------------
out "$IEX" run --integration shop_a --input "$tmp/five.jsonl"
r1=$(rc)
out "$IEX" run --integration shop_b --input "$tmp/two.jsonl"
if [ "$r1$(rc)" = 00 ]; then pass runs_transfer_the_orders
else fail runs_transfer_the_orders "rc $r1$(rc)" "$(show_out)"; fi

month=$(date -u +%Y-%m)
out env IEX_QUOTA=1 "$IEX" usage
if [ "$(rc)" = 0 ] && has "^usage $month \(UTC\)$" \
   && has '^integration +orders +included +quota +extra$' \
   && has '^shop_a +5 +3 +3 +2$' && has '^shop_b +2 +2 +100 +0$' \
   && has '^shop_c +0 +0 +0 +0$' && has '^total +7 +5 +103 +2$' \
   && [ "$(wc -l <"$tmp/out")" = 6 ]; then pass usage_per_integration_own_quota_and_total
else fail usage_per_integration_own_quota_and_total "rc $(rc)" "$(show_out)"; fi

out "$IEX" usage --json
if [ "$(rc)" = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["month"] == sys.argv[2], d
byname = {i["name"]: i for i in d["integrations"]}
assert [i["name"] for i in d["integrations"]] == ["shop_a", "shop_b", "shop_c"], d
assert byname["shop_a"] == {"name": "shop_a", "orders": 5, "included": 3, "extra": 2, "quota": 3}, d
assert byname["shop_b"] == {"name": "shop_b", "orders": 2, "included": 2, "extra": 0, "quota": 100}, d
assert byname["shop_c"] == {"name": "shop_c", "orders": 0, "included": 0, "extra": 0, "quota": 0}, d
assert d["total"] == {"orders": 7, "included": 5, "extra": 2, "quota": 103}, d
' "$tmp/out" "$month"; then pass usage_json
else fail usage_json "rc $(rc)" "$(show_out)"; fi

out "$IEX" usage --integration shop_a
if [ "$(rc)" = 0 ] && has '^shop_a +5 +3 +3 +2$' && has '^total +5 +3 +3 +2$' && ! has '^shop_b'; then pass usage_one_integration
else fail usage_one_integration "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings set shop_a included_orders 10
out "$IEX" usage --integration shop_a --json
if [ "$(rc)" = 0 ] && has '"integrations":\[\{"name":"shop_a","orders":5,"included":5,"extra":0,"quota":10\}\]'; then pass usage_follows_a_changed_quota
else fail usage_follows_a_changed_quota "rc $(rc)" "$(show_out)"; fi

out "$IEX" usage --month 2000-01
if [ "$(rc)" = 0 ] && has '^usage 2000-01 ' && has '^shop_a +0 +0 +10 +0$' && has '^total +0 +0 +110 +0$'; then pass usage_other_month
else fail usage_other_month "rc $(rc)" "$(show_out)"; fi

out "$IEX" usage --quota 5
if [ "$(rc)" = 2 ] && has "unknown option --quota"; then pass usage_has_no_quota_option
else fail usage_has_no_quota_option "rc $(rc)" "$(show_out)"; fi

out "$IEX" usage --integration nosuch
if [ "$(rc)" = 1 ] && has "no integration"; then pass usage_unknown_integration
else fail usage_unknown_integration "rc $(rc)" "$(show_out)"; fi

out "$IEX" usage --month 2000-13
if [ "$(rc)" = 2 ] && has "use YYYY-MM"; then pass usage_bad_month
else fail usage_bad_month "rc $(rc)" "$(show_out)"; fi
exit 0
