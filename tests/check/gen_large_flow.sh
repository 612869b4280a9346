#!/bin/sh
# Print a valid flow of about N lines (default 100000) for the speed and
# memory test: realistic steps, records, `for`, `match`, interpolation and
# comments, repeated. Usage: sh tests/check/gen_large_flow.sh [N]
awk -v n="${1:-100000}" 'BEGIN {
  print "flow large \"A generated flow for measuring iexc\""
  print ""
  print "use shop: shopify"
  print "use books: economic"
  print "setting invoice_mode: draft | booked = draft \"Draft or booked\""
  print ""
  print "on shop.order reaches paid"
  print ""
  print "step customer = books.customer.match_or_create(by: email) {"
  print "  name = order.billing_address.company ?? order.name"
  print "  email = order.email ?? fail(\"order {order.name} has no email\")"
  print "  currency = order.currency"
  print "  customerGroup = { customerGroupNumber = 1 }"
  print "  vatZone = { vatZoneNumber = 1 }"
  print "}"
  print ""
  lines = 16
  for (i = 0; lines < n; i++) {
    printf "# Step %d: a note and an invoice.\n", i
    printf "step invoice_%d = books.invoice.create(mode: settings.invoice_mode) {\n", i
    printf "  customer = { customerNumber = customer.customerNumber ?? %d }\n", i
    print  "  currency = order.currency"
    print  "  date = date(order.created_at)"
    print  "  let text = \"Order {order.name} for {order.billing_address.first_name}\""
    print  "  let zone = match order.billing_address.country_code {"
    print  "    \"DK\" => 1"
    print  "    \"NO\", \"CH\" => 3"
    print  "    else => 2"
    print  "  }"
    print  "  if zone == 3 { fail(text) }"
    print  "  lines = for item in order.line_items where item.quantity > 0 {"
    print  "    product = { productNumber = item.sku ?? fail(\"line {item.title} has no SKU\") }"
    print  "    quantity = item.quantity"
    print  "    unitNetPrice = round(item.price - item.total_discount / item.quantity, 2)"
    print  "  }"
    print  "}"
    print  ""
    lines += 19
  }
}'
