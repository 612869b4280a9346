"""Seed data shared by the shop emulators (Shopify, WooCommerce) and the
accounting emulators (e-conomic, Dinero), so that a flow moving orders from a
seeded shop into a seeded accounting agreement finds its products there.

Prices are DKK including VAT. Special cases a flow must handle:
  * KAFFE-JUL-2023 is barred in e-conomic (booking fails);
  * "Prøvepakke" has no SKU (the "missing SKU" order);
  * MAELK-SKUM at 79.99 incl. 25 % VAT: 3 of them give a one-cent difference
    between the shop's total (239.97) and an accounting system that computes
    VAT on the net total (3 x 63.99 + 25 % = 239.96).
"""

# (handle, title, vendor, product_type, [(variant title, sku, price, grams)])
PRODUCTS = [
    ("espressobonner", "Espressobønner", "Nordisk Kaffe", "Kaffe",
     [("500 g", "KAFFE-ESP-500", "129.00", 500), ("1 kg", "KAFFE-ESP-1000", "239.00", 1000)]),
    ("filterkaffe", "Filterkaffe, mellemristet", "Nordisk Kaffe", "Kaffe",
     [("1 kg", "KAFFE-FIL-1000", "199.00", 1000)]),
    ("gron-te", "Grøn te, økologisk", "Tehuset", "Te",
     [("100 g", "TE-GRON-100", "59.95", 100)]),
    ("kaffekop", "Kaffekop i stentøj", "Keramikværkstedet", "Tilbehør",
     [("Sort", "KOP-STEN-SORT", "89.00", 350), ("Hvid", "KOP-STEN-HVID", "89.00", 350)]),
    ("kaffekvaern", "Manuel kaffekværn", "Nordisk Kaffe", "Tilbehør",
     [("Default Title", "KVARN-MAN", "449.00", 800)]),
    ("filterpapir", "Filterpapir nr. 4, 100 stk.", "Nordisk Kaffe", "Tilbehør",
     [("Default Title", "FILTER-4-100", "19.95", 150)]),
    ("maelkeskummer", "Mælkeskummer", "Nordisk Kaffe", "Tilbehør",
     [("Default Title", "MAELK-SKUM", "79.99", 300)]),
    ("chokolade", "Mørk chokolade 70 %", "Chokolademageren", "Chokolade",
     [("Default Title", "CHOK-70", "39.95", 100)]),
    ("julekaffe-2023", "Julekaffe 2023", "Nordisk Kaffe", "Kaffe",
     [("Default Title", "KAFFE-JUL-2023", "99.00", 250)]),
    ("provepakke", "Prøvepakke", "Nordisk Kaffe", "Kaffe",
     [("Default Title", "", "49.00", 200)]),
]

# Synthetic product numbers an accounting agreement holds for non-product lines.
SERVICE_PRODUCTS = [
    ("FRAGT", "Fragt", "39.20"),
    ("GEBYR", "Betalingsgebyr", "0.00"),
    ("RABAT", "Rabat", "0.00"),
    ("DIVERSE", "Diverse varer", "0.00"),
]

# Product numbers the shipped flows name that carry no VAT (product group 2,
# "Varer uden moms"): shipping abroad, fees without VAT, sold gift cards and
# the cent-correction line (its net price is the gross difference).
SERVICE_PRODUCTS_NO_VAT = [
    ("FRAGT0", "Fragt uden moms", "0.00"),
    ("GEBYR0", "Gebyr uden moms", "0.00"),
    ("GAVEKORT", "Gavekort", "0.00"),
    ("OERE", "Øreafrunding", "0.00"),
]

# Refunds without a line (goodwill, differences): VAT as for goods.
REFUND_PRODUCT = ("REFUSION", "Refusion", "0.00")

# OSS variants (EU consumers charged their own country's VAT): the product
# number plus -COUNTRY, in the country's OSS product group (economic.py).
OSS_COUNTRIES = ("DE", "SE")

# first, last, email, phone, address1, zip, city, country_code, country, company
CUSTOMERS = [
    ("Mette", "Jensen", "mette.jensen@example.dk", "+4520123456", "Nørregade 12", "1165", "København K", "DK", "Denmark", None),
    ("Lars", "Nielsen", "lars.nielsen@example.dk", "+4521234567", "Vestergade 3, 2. tv.", "8000", "Aarhus C", "DK", "Denmark", None),
    ("Sofie", "Hansen", "sofie.hansen@example.dk", "+4522345678", "Algade 45", "9000", "Aalborg", "DK", "Denmark", None),
    ("Anders", "Pedersen", "anders@pedersen-vvs.example.dk", "+4523456789", "Industrivej 7", "5000", "Odense C", "DK", "Denmark", "Pedersen VVS ApS"),
    ("Camilla", "Andersen", "camilla.andersen@example.dk", "+4524567890", "Strandvejen 101", "2900", "Hellerup", "DK", "Denmark", None),
    ("Jens", "Christensen", "jens.c@example.dk", "+4525678901", "Bredgade 8", "6000", "Kolding", "DK", "Denmark", None),
    ("Ida", "Larsen", "ida.larsen@example.dk", "+4526789012", "Søndergade 22", "8700", "Horsens", "DK", "Denmark", None),
    ("Søren", "Sørensen", "soren.sorensen@example.dk", "+4527890123", "Østergade 5", "4000", "Roskilde", "DK", "Denmark", None),
    ("Freja", "Rasmussen", "freja.r@example.dk", "+4528901234", "Kongensgade 61", "6700", "Esbjerg", "DK", "Denmark", None),
    ("Mikkel", "Jørgensen", "mikkel.jorgensen@example.dk", "+4529012345", "Havnegade 14", "5700", "Svendborg", "DK", "Denmark", None),
    ("Julia", "Schmidt", "julia.schmidt@example.de", "+4915112345678", "Torstraße 140", "10119", "Berlin", "DE", "Germany", None),
    ("Erik", "Lindqvist", "erik.lindqvist@example.se", "+46701234567", "Södra Förstadsgatan 30", "211 43", "Malmö", "SE", "Sweden", None),
    ("Ingrid", "Haugen", "ingrid.haugen@example.no", "+4791234567", "Karl Johans gate 10", "0154", "Oslo", "NO", "Norway", None),
]

# VAT rate by destination country for the shop's B2C sales (OSS for EU).
VAT = {"DK": "0.25", "DE": "0.19", "SE": "0.25", "NL": "0.21", "FI": "0.255", "NO": "0", "GB": "0"}
TAX_TITLE = {"DK": "DK Moms", "DE": "DE MwSt", "SE": "SE Moms", "NL": "NL BTW", "FI": "FI ALV"}
# Presentment currency and DKK per unit.
PRESENTMENT = {"DE": ("EUR", "7.46"), "SE": ("SEK", "0.65"), "NL": ("EUR", "7.46"), "FI": ("EUR", "7.46"),
               "NO": ("NOK", "0.64")}

SHIPPING = ("PostNord - Pakke til privatadresse", "PostNord", "49.00")
SHIPPING_EU = ("GLS - International", "GLS", "95.00")

# The special orders every seeded shop contains, by position in the seed list.
SPECIAL_ORDERS = {
    2: {"label": "oss-de", "customer": 10, "lines": [("KAFFE-ESP-500", 2), ("CHOK-70", 1)]},
    4: {"label": "oss-se", "customer": 11, "lines": [("KVARN-MAN", 1)]},
    6: {"label": "missing-sku", "customer": 2, "lines": [("", 1), ("KAFFE-FIL-1000", 1)]},
    8: {"label": "refund", "customer": 4, "lines": [("KOP-STEN-SORT", 2), ("KAFFE-ESP-1000", 1)],
        "refund": [("KOP-STEN-SORT", 1)]},
    10: {"label": "cent-difference", "customer": 5, "lines": [("MAELK-SKUM", 3)], "shipping": None},
    12: {"label": "barred-product", "customer": 6, "lines": [("KAFFE-JUL-2023", 2)]},
    14: {"label": "company", "customer": 3, "lines": [("KAFFE-FIL-1000", 4), ("FILTER-4-100", 2)]},
    16: {"label": "discount", "customer": 0, "lines": [("KAFFE-ESP-500", 2), ("TE-GRON-100", 1)],
         "discount": ("SOMMER10", "10")},
    18: {"label": "pending", "customer": 7, "lines": [("CHOK-70", 2)], "financial_status": "pending"},
    20: {"label": "abroad-no", "customer": 12, "lines": [("KAFFE-ESP-1000", 1)]},
}
