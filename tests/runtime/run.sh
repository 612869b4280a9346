#!/usr/bin/env bash
# Runtime suite: every `iex` command of the executor on a scripted flow
# (tests/runtime/data/shop.flowscript) against the ledger target (a file). Each
# case prints "PASS runtime/<name>" or "FAIL runtime/<name>: why".
set -u
IEX="$IEX_BUILD/bin/iex"
DATA="$IEX_ROOT/tests/runtime/data"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iex-runtime-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
export IEX_STORE="$tmp/iex.db"
unset IEX_LEDGER_FAULT IEX_CRASH_AT

SUITE=runtime
. "$IEX_ROOT/tests/lib/suite.sh"

CANARY="CANARY-secret-7f3a9b-do-not-store"
export LEDGER_TOKEN="$CANARY"
printf '%s\n' "$CANARY" >"$tmp/token"; chmod 600 "$tmp/token"
conns='{"books":{"system":"ledger","base_url":"file:'"$tmp"'/ledger.txt","secrets":{"token":"env:LEDGER_TOKEN","file_token":"file:'"$tmp"'/token"}}}'

# ---- integration add / list / show / activate / deactivate -------------
out "$IEX" integration add shop --flow "$DATA/shop.flowscript" --connections "$conns" --activate-at 2024-01-01
if [ "$(rc)" = 0 ] && has "added integration shop"; then pass integration_add
else fail integration_add "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration add shop --flow "$DATA/shop.flowscript" --connections "$conns"
if [ "$(rc)" = 1 ] && has "exists"; then pass integration_add_twice_refused
else fail integration_add_twice_refused "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration add leaky --flow "$DATA/shop.flowscript" --connections '{"books":{"system":"ledger","secrets":{"token":"'"$CANARY"'"}}}'
if [ "$(rc)" != 0 ] && has "reference" && ! grep -q "$CANARY" "$tmp/out" "$tmp/err"; then pass integration_add_secret_value_refused
else fail integration_add_secret_value_refused "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration list
if [ "$(rc)" = 0 ] && has "^shop .*active"; then pass integration_list
else fail integration_list "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration list --json
if [ "$(rc)" = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["name"]=="shop" and d[0]["active"]' "$tmp/out"; then pass integration_list_json
else fail integration_list_json "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration show shop
if [ "$(rc)" = 0 ] && has "flow:  *shop_to_ledger" && has "env:LEDGER_TOKEN" && has 'invoice_mode .*"draft"  (default)' && has 'included_orders .*100  (built-in, default)'; then pass integration_show
else fail integration_show "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration show nosuch
if [ "$(rc)" = 1 ] && has "no integration"; then pass integration_show_unknown
else fail integration_show_unknown "rc $(rc)" "$(show_out)"; fi

# ---- settings ----------------------------------------------------------
out "$IEX" settings set shop invoice_mode posted
if [ "$(rc)" = 1 ] && has "allowed values: draft, booked"; then pass settings_refused_lists_allowed
else fail settings_refused_lists_allowed "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings set shop cent_threshold 0.1x
if [ "$(rc)" = 1 ] && has "is money"; then pass settings_type_checked
else fail settings_type_checked "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings set shop no_such 1
if [ "$(rc)" = 1 ] && has "no setting .no_such.; its settings: invoice_mode"; then pass settings_unknown_name
else fail settings_unknown_name "rc $(rc)" "$(show_out)"; fi

out "$IEX" settings set shop invoice_mode booked
r1=$(rc)
out "$IEX" settings set shop cent_threshold 0.10
r2=$(rc)
out "$IEX" settings get shop invoice_mode
if [ "$r1$r2$(rc)" = 000 ] && [ "$(cat "$tmp/out")" = '"booked"' ]; then pass settings_set_get
else fail settings_set_get "rc $r1$r2$(rc)" "$(show_out)"; fi

out "$IEX" settings get shop
if [ "$(rc)" = 0 ] && has 'cent_threshold *= 0.10 ' && has 'create_customers *= true .*default'; then pass settings_get_all_exact_money
else fail settings_get_all_exact_money "rc $(rc)" "$(show_out)"; fi

# ---- run: done, skipped, failed with the rule, stages -----------------
out "$IEX" run --integration shop --input "$DATA/orders.jsonl"
if [ "$(rc)" = 1 ] && has "4 records stored" && has "1 done, 1 skipped, 2 failed"; then pass run_statuses
else fail run_statuses "rc $(rc)" "$(show_out)"; fi

if [ "$(grep -c '^invoice.create' ledger.txt)" = 1 ] && grep -q '"mode":"booked"' ledger.txt; then pass run_uses_settings
else fail run_uses_settings "ledger:" "$(cat ledger.txt)"; fi

out "$IEX" run --integration shop --input "$DATA/orders.jsonl"
if [ "$(rc)" = 0 ] && has "0 records stored, 4 already there" && has "0 runs"; then pass run_dedups_input
else fail run_dedups_input "rc $(rc)" "$(show_out)"; fi

# ---- log ---------------------------------------------------------------
out "$IEX" log
if [ "$(rc)" = 0 ] && [ "$(grep -c shop "$tmp/out")" = 4 ]; then pass log_all
else fail log_all "rc $(rc)" "$(show_out)"; fi

out "$IEX" log --status failed
if [ "$(rc)" = 0 ] && [ "$(grep -c failed "$tmp/out")" = 2 ] && has "flows/shop.iexflow:14:1" && has "SKU-9"; then pass log_status_failed_with_rule
else fail log_status_failed_with_rule "rc $(rc)" "$(show_out)"; fi

out "$IEX" log --status skipped
if [ "$(rc)" = 0 ] && has "Order not in allowed states" && [ "$(wc -l <"$tmp/out")" = 1 ]; then pass log_status_skipped_reason
else fail log_status_skipped_reason "rc $(rc)" "$(show_out)"; fi

out "$IEX" log --order 1001
if [ "$(rc)" = 0 ] && has "#1001" && [ "$(wc -l <"$tmp/out")" = 1 ]; then pass log_order
else fail log_order "rc $(rc)" "$(show_out)"; fi

out "$IEX" log --integration shop --json
if [ "$(rc)" = 0 ] && python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); s={t["key"]:t for t in d}
assert len(d)==4 and s["#1001"]["status"]=="done" and s["#1003"]["location"]=="flows/shop.iexflow:14:1"' "$tmp/out"; then pass log_json
else fail log_json "rc $(rc)" "$(show_out)"; fi

today=$(date -u +%F)
out "$IEX" log --from 2000-01-01 --to 2000-12-31
a=$(wc -l <"$tmp/out"); a_has=$(grep -c "no transfers" "$tmp/out")
out "$IEX" log --from "$today" --to "$today"
if [ "$a_has" = 1 ] && [ "$(grep -c shop "$tmp/out")" = 4 ]; then pass log_date_range
else fail log_date_range "lines $a" "$(show_out)"; fi

out "$IEX" log --status bogus
if [ "$(rc)" = 2 ]; then pass log_bad_status
else fail log_bad_status "rc $(rc)" "$(show_out)"; fi

# ---- revisions and show ------------------------------------------------
printf '%s\n' '{"id": 1001, "name": "#1001", "email": "a@example.com", "total": 21.50, "financial_status": "paid", "updated_at": "2030-01-02T10:00:00+01:00"}' >"$tmp/update.jsonl"
out "$IEX" run --integration shop --input "$tmp/update.jsonl"
if [ "$(rc)" = 0 ] && has "1 new revisions" && has "2 reused" && [ "$(grep -c '^invoice.create' ledger.txt)" = 1 ]; then pass revision_update_reuses_effects
else fail revision_update_reuses_effects "rc $(rc)" "$(show_out)"; fi

out "$IEX" show 1
if [ "$(rc)" = 0 ] && has "revision 2" && has "total: 19.99 -> 21.50" && has "updated_at:" \
   && has "\[mapped\] invoice" && has "\[response\] invoice" && has '"reference": "#1001"' \
   && has "invoice: ledger invoice.create, done"; then pass show_stages_and_diff
else fail show_stages_and_diff "rc $(rc)" "$(show_out)"; fi

out "$IEX" show "#1003"
if [ "$(rc)" = 0 ] && has "E_MAPPING: step customer: the record has no email at flows/shop.iexflow:14:1"; then pass show_failure_reason_by_key
else fail show_failure_reason_by_key "rc $(rc)" "$(show_out)"; fi

out "$IEX" show 999
if [ "$(rc)" = 1 ]; then pass show_unknown
else fail show_unknown "rc $(rc)" "$(show_out)"; fi

# ---- retry, waiting, replay -------------------------------------------
IEX_LEDGER_FAULT=down out "$IEX" retry 4
if [ "$(rc)" = 0 ] && has "1 waiting"; then pass retry_transient_is_waiting
else fail retry_transient_is_waiting "rc $(rc)" "$(show_out)"; fi
out "$IEX" log --status waiting
if has "#1004" && has "could not reach"; then pass log_waiting
else fail log_waiting "" "$(show_out)"; fi

out "$IEX" retry --failed
if [ "$(rc)" = 1 ] && has "1 transfers queued again" && has "[12] failed"; then pass retry_failed
else fail retry_failed "rc $(rc)" "$(show_out)"; fi

sed 's/"email": "{email!}"/"email": "{email}"/; s/"ledger_refuse": "{refuse}"/"note": "fixed"/' "$DATA/shop.flowscript" >"$tmp/fixed.flowscript"
out "$IEX" replay 3 --flow "$tmp/fixed.flowscript"
if [ "$(rc)" = 0 ] && has "replayed with .*: done" && grep -q '^invoice.create	#1003	' ledger.txt; then pass replay_fixed_flow
else fail replay_fixed_flow "rc $(rc)" "$(show_out)"; fi

out "$IEX" replay 3
if [ "$(rc)" = 2 ]; then pass replay_needs_flow
else fail replay_needs_flow "rc $(rc)" "$(show_out)"; fi

# ---- lost answers are found by reference, not sent twice --------------
printf '%s\n' '{"id": 2001, "name": "#2001", "email": "x@example.com", "total": 3, "financial_status": "paid", "updated_at": "2030-01-01T10:00:00Z"}' >"$tmp/lost.jsonl"
IEX_LEDGER_FAULT=lost out "$IEX" run --integration shop --input "$tmp/lost.jsonl"
r1=$(rc); w=$(grep -c waiting "$tmp/out")
out "$IEX" retry "#2001"
if [ "$r1" != 2 ] && [ "$w" = 1 ] && has "found by reference" && [ "$(grep -c '	#2001/customer	' ledger.txt)" = 1 ]; then pass unknown_outcome_found_by_reference
else fail unknown_outcome_found_by_reference "rc $r1 $(rc)" "$(show_out)"; fi

# ---- deactivate / activate --------------------------------------------
out "$IEX" integration deactivate shop
printf '%s\n' '{"id": 3001, "name": "#3001", "email": "y@example.com", "total": 3, "financial_status": "paid", "updated_at": "2030-01-01T10:00:00Z"}' >"$tmp/late.jsonl"
out "$IEX" run --integration shop --input "$tmp/late.jsonl"
held=$(grep -c "0 runs" "$tmp/out")
out "$IEX" integration activate shop
out "$IEX" run
if [ "$held" = 1 ] && "$IEX" log --order 3001 | grep -q " done "; then pass integration_deactivate_holds_runs
else fail integration_deactivate_holds_runs "held $held" "$(show_out)"; fi

printf '%s\n' '{"id": 4001, "name": "#4001", "email": "z@example.com", "total": 3, "financial_status": "paid", "updated_at": "2020-01-01T10:00:00Z"}' >"$tmp/old.jsonl"
out "$IEX" run --integration shop --input "$tmp/old.jsonl"
# Not "0 runs": a retry still waiting from an earlier case may become due
# during this run. What matters is that #4001 made no transfer.
if has "0 new revisions" && "$IEX" log --order 4001 | grep -q "no transfers"; then pass before_activation_not_transferred
else fail before_activation_not_transferred "" "$(show_out)"; fi

# ---- usage -------------------------------------------------------------
# The quota is the integration's built-in setting (more in tests/usage).
out "$IEX" settings set shop included_orders 2
out "$IEX" usage
if [ "$(rc)" = 0 ] && grep -Eq '^shop +4 +2 +2 +2$' "$tmp/out" && grep -Eq '^total +4 +2 +2 +2$' "$tmp/out"; then pass usage_quota_and_extra
else fail usage_quota_and_extra "rc $(rc)" "$(show_out)"; fi
out "$IEX" usage --json --month 2000-01
if [ "$(rc)" = 0 ] && has '"total":{"orders":0,'; then pass usage_other_month
else fail usage_other_month "rc $(rc)" "$(show_out)"; fi

# ---- a paused connection stays paused across iex runs -----------------
# Two failures in two `iex run` processes pause it (circuit_failures 2); a
# third process finds the pause without calling; show says until when and
# why; resume ends it and the waiting transfers go.
pconns='{"books":{"system":"ledger","base_url":"file:'"$tmp"'/paused.txt","circuit_failures":2,"circuit_pause_seconds":3600}}'
out "$IEX" integration add paused --flow "$DATA/shop.flowscript" --connections "$pconns" --activate-at 2024-01-01
for n in 6001 6002 6003; do
  printf '{"id": %s, "name": "#%s", "email": "p@example.com", "total": 3, "financial_status": "paid", "updated_at": "2030-01-01T10:00:00Z"}\n' $n $n >"$tmp/p$n.jsonl"
done
IEX_LEDGER_FAULT=down out "$IEX" run --integration paused --input "$tmp/p6001.jsonl"
IEX_LEDGER_FAULT=down out "$IEX" run --integration paused --input "$tmp/p6002.jsonl"
out "$IEX" run --integration paused --input "$tmp/p6003.jsonl"
if [ ! -s "$tmp/paused.txt" ] && "$IEX" log --order 6003 | grep -q "paused until .*Z after 2 failures in a row (last: E_NETWORK: could not reach the ledger"; then pass circuit_pause_shared_by_runs
else fail circuit_pause_shared_by_runs "" "$("$IEX" log --integration paused)"; fi

out "$IEX" integration show paused
if [ "$(rc)" = 0 ] && has "books: paused until 20[0-9-]*T[0-9:]*Z after 2 failures (last: E_NETWORK: could not reach" && has "iex integration resume paused"; then pass integration_show_paused_connection
else fail integration_show_paused_connection "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration resume paused nosuch
if [ "$(rc)" = 1 ] && has "no connection .nosuch.; its connections: books"; then pass integration_resume_unknown_connection
else fail integration_resume_unknown_connection "rc $(rc)" "$(show_out)"; fi

out "$IEX" integration resume paused
r1=$(rc); resumed=$(grep -c "resumed books of paused" "$tmp/out")
out "$IEX" run
if [ "$r1" = 0 ] && [ "$resumed" = 1 ] && has "3 done" && [ "$(grep -c '^invoice.create' "$tmp/paused.txt")" = 3 ] \
   && "$IEX" integration show paused | grep -q "books: ok"; then pass integration_resume_ends_the_pause
else fail integration_resume_ends_the_pause "rc $r1 resumed $resumed" "$(show_out)"; fi

# ---- secrets never stored, logged or printed ---------------------------
if ! grep -rq "$CANARY" "$tmp"/iex.db* ledger.txt 2>/dev/null && ! "$IEX" show 1 | grep -q "$CANARY"; then pass secrets_not_stored
else fail secrets_not_stored "the canary is in the store, ledger or output"; fi

chmod 644 "$tmp/token"
printf '%s\n' '{"id": 5001, "name": "#5001", "email": "q@example.com", "total": 3, "financial_status": "paid", "updated_at": "2030-01-01T10:00:00Z"}' >"$tmp/s.jsonl"
out "$IEX" run --integration shop --input "$tmp/s.jsonl"
if [ "$(rc)" = 1 ] && "$IEX" log --order 5001 | grep -q "can be read by others" && ! grep -q "$CANARY" "$tmp/out" "$tmp/err"; then pass secret_file_must_be_private
else fail secret_file_must_be_private "rc $(rc)" "$(show_out)"; fi
exit 0
