"""Writes the labelled advice set (catalog.json, questions.json) from the tables below.

The catalog is written by product family, each product with what it truly is (its kinds, colours
and sizes: the ``truth`` of each entry, which no code under test reads). Each question says, as
a person reading it would, what kinds of product answer it and what constraints it states; the
acceptable first answers are then every product of those kinds that meets those constraints by
its truth (for "cheap", the cheapest of them that can be had now, within a quarter of the lowest
price). Run it after changing a table; the JSON is what the tests and the bench read:

    .venv/bin/python tests/assistant_advice/build_set.py
"""

# The tables keep one product family or question a row, which reads better than wrapped rows.
# ruff: noqa: E501

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SHOP_ID = "shop-advice"
CURRENCY = "USD"
# The cheap rule: a product within this factor of the cheapest is as good a "cheap" answer.
CHEAP_FACTOR = Decimal("1.25")

# Colour as written -> the colours it is (a shade is its colour too).
COLOUR_TRUTH = {"navy": ("navy", "blue"), "charcoal": ("grey",)}

# (code, brand, category, title, tags, description, price, variants)
# A variant: (colour or None, size or None, extra fields) where extra may hold sale, availability,
# inventory. The title gets " - colour - size" as Meta catalogs write it, unless the family says
# its colour is in the description only ("desc_colour").
FAMILIES: list[dict[str, Any]] = [
    # --- Apparel
    dict(code="MSOCK", brand="Acme", category="Apparel > Socks", title="Merino wool socks",
         tags=["socks", "merino socks", "wool socks"], price="14.99",
         description="Soft merino wool crew socks that keep feet warm and dry on long days.",
         variants=[("blue", "M", {}), ("blue", "L", {"availability": "out of stock"}), ("black", "M", {}),
                   ("grey", "S", {"sale": "11.99"}), ("grey", "M", {"sale": "11.99"}), ("navy", "L", {})]),
    dict(code="CSOCK", brand="Kora", category="Apparel > Socks", title="Cotton crew socks 3-pack",
         tags=["socks", "cotton socks"], price="9.99",
         description="Everyday organic cotton crew socks, three pairs.",
         variants=[("white", "M", {}), ("black", "M", {}), ("black", "L", {}), ("pink", "S", {})]),
    dict(code="RSOCK", brand="Pulse", category="Apparel > Socks", title="Cushioned running socks",
         tags=["socks", "running socks"], price="12.00",
         description="Light cushioned socks for running, with a seamless toe. Pairs well with our running shoes.",
         variants=[("black", "M", {"sale": "8.50"}), ("yellow", "S", {}), ("white", "L", {})]),
    dict(code="HSOCK", brand="Trailhead", category="Apparel > Socks", title="Wool hiking socks",
         tags=["socks", "wool socks", "hiking socks"], price="18.50",
         description="Thick wool blend socks made for long days in hiking boots.",
         variants=[("green", "M", {}), ("brown", "L", {}), ("grey", "M", {"availability": "out of stock"})]),
    dict(code="OTEE", brand="Kora", category="Apparel > T-shirts", title="Organic cotton t-shirt",
         tags=["t-shirt", "tee", "shirt"], price="19.99",
         description="Classic crew neck tee in soft organic cotton.",
         variants=[("white", "S", {}), ("white", "M", {}), ("white", "L", {}), ("black", "M", {}),
                   ("blue", "XL", {}), ("green", "M", {})]),
    dict(code="GTEE", brand="Brightline", category="Apparel > T-shirts", title="Graphic print tee",
         tags=["t-shirt", "tee", "shirt"], price="24.00",
         description="Relaxed tee with a screen-printed mountain graphic.",
         variants=[("red", "M", {"sale": "16.00"}), ("yellow", "L", {}), ("grey", "XXL", {}), ("black", "S", {})]),
    dict(code="RTEE", brand="Pulse", category="Apparel > T-shirts", title="Performance running t-shirt",
         tags=["t-shirt", "shirt", "running shirt"], price="29.99",
         description="Quick-dry mesh top for running and the gym.",
         variants=[("orange", "M", {}), ("blue", "S", {}), ("black", "L", {"availability": "preorder"})]),
    dict(code="PHOOD", brand="Northpeak", category="Apparel > Hoodies", title="Fleece pullover hoodie",
         tags=["hoodie", "sweatshirt"], price="54.99",
         description="Brushed fleece hoodie with a kangaroo pocket.",
         variants=[("grey", "M", {}), ("grey", "L", {}), ("black", "XL", {}), ("green", "M", {}),
                   ("black", "M", {"availability": "out of stock"})]),
    dict(code="ZHOOD", brand="Acme", category="Apparel > Hoodies", title="Zip-up hoodie",
         tags=["hoodie", "sweatshirt"], price="49.00",
         description="Midweight cotton hoodie with a full zip.",
         variants=[("navy", "M", {"sale": "39.00"}), ("red", "L", {}), ("black", "XL", {"sale": "39.00"})]),
    dict(code="SJEAN", brand="Fernwood", category="Apparel > Jeans", title="Slim fit jeans",
         tags=["jeans", "pants", "slim jeans"], price="69.99",
         description="Stretch denim jeans with a slim leg.",
         variants=[("blue", "30", {}), ("blue", "32", {}), ("blue", "34", {}), ("black", "32", {}),
                   ("blue", "36", {})]),
    dict(code="RJEAN", brand="Acme", category="Apparel > Jeans", title="Relaxed fit jeans",
         tags=["jeans", "pants"], price="59.00",
         description="Roomy five-pocket jeans in heavyweight denim.",
         variants=[("blue", "34", {}), ("grey", "36", {"sale": "45.00"}),
                   ("black", "30", {"availability": "out of stock"})]),
    dict(code="RAIN", brand="Northpeak", category="Apparel > Jackets", title="Packable rain jacket",
         tags=["jacket", "rain jacket", "waterproof jacket"], price="89.00",
         description="Waterproof, breathable shell that packs into its own pocket.",
         variants=[("yellow", "M", {"sale": "74.99"}), ("navy", "L", {}), ("black", "S", {}), ("red", "M", {})]),
    dict(code="DOWN", brand="Ridgeline", category="Apparel > Jackets", title="Down puffer jacket",
         tags=["jacket", "down jacket", "winter jacket"], price="189.00",
         description="Warm 700-fill down jacket for cold winter days, with a water-resistant finish.",
         variants=[("black", "M", {}), ("black", "L", {"availability": "out of stock"}), ("red", "M", {}),
                   ("blue", "S", {})]),
    dict(code="DENJ", brand="Fernwood", category="Apparel > Jackets", title="Denim jacket",
         tags=["jacket", "denim jacket"], price="79.00",
         description="Classic trucker jacket in rigid denim.",
         variants=[("blue", "M", {}), ("blue", "L", {}), ("black", "M", {})]),
    dict(code="LDRS", brand="Everly", category="Apparel > Dresses", title="Linen summer dress",
         tags=["dress", "summer dress"], price="64.00",
         description="Airy linen midi dress for warm days.",
         variants=[("white", "S", {}), ("beige", "M", {}), ("green", "M", {}),
                   ("white", "M", {"availability": "out of stock"})]),
    dict(code="WDRS", brand="Everly", category="Apparel > Dresses", title="Wrap dress",
         tags=["dress"], price="72.00",
         description="Jersey wrap dress with a tie waist.",
         variants=[("red", "S", {"sale": "57.60"}), ("black", "M", {}), ("navy", "L", {}), ("pink", "S", {})]),
    dict(code="SWTR", brand="Acme", category="Apparel > Sweaters", title="Merino crew sweater",
         tags=["sweater", "jumper", "wool sweater"], price="89.99",
         description="Fine-knit merino wool sweater.",
         variants=[("grey", "M", {}), ("navy", "L", {}), ("beige", "S", {}), ("charcoal", "M", {})]),
    dict(code="BEAN", brand="Northpeak", category="Apparel > Hats", title="Chunky knit beanie",
         tags=["beanie", "hat", "winter hat"], price="22.00", desc_colour=True,
         description="Chunky rib-knit beanie, one size. Colour: {colour}.",
         variants=[("red", None, {}), ("grey", None, {}), ("black", None, {})]),
    dict(code="CAP", brand="Brightline", category="Apparel > Hats", title="Cotton baseball cap",
         tags=["cap", "hat"], price="18.00",
         description="Six-panel cap with an adjustable strap.",
         variants=[("black", None, {}), ("blue", None, {}), ("white", None, {})]),
    dict(code="GLOV", brand="Copperleaf", category="Apparel > Gloves", title="Leather gloves",
         tags=["gloves"], price="45.00",
         description="Lined leather gloves for winter.",
         variants=[("brown", "M", {}), ("black", "L", {}), ("black", "M", {})]),
    dict(code="LEGG", brand="Pulse", category="Apparel > Activewear", title="High-waist yoga leggings",
         tags=["leggings", "yoga pants"], price="39.00",
         description="Squat-proof leggings with a hidden pocket.",
         variants=[("black", "S", {}), ("black", "M", {}), ("purple", "M", {}), ("navy", "L", {})]),
    # --- Footwear
    dict(code="TRUN", brand="Trailhead", category="Footwear > Running Shoes", title="Trail running shoes",
         tags=["running shoes", "shoes", "trainers", "trail running shoes"], price="119.00",
         description="Grippy trail runners with a rock plate and a cushioned midsole.",
         variants=[("black", "9", {}), ("black", "10", {}), ("black", "11", {}), ("blue", "10", {"sale": "95.00"}),
                   ("green", "9", {"availability": "out of stock"})]),
    dict(code="RRUN", brand="Pulse", category="Footwear > Running Shoes", title="Road running shoes",
         tags=["running shoes", "shoes", "trainers"], price="89.99",
         description="Light, responsive road shoes for daily training.",
         variants=[("white", "8", {}), ("white", "9", {}), ("red", "10", {}),
                   ("grey", "11", {"availability": "out of stock"}), ("black", "10", {"sale": "69.99"})]),
    dict(code="RACE", brand="Zenit", category="Footwear > Running Shoes", title="Carbon racing shoes",
         tags=["running shoes", "shoes", "trainers", "racing shoes"], price="179.00",
         description="Carbon-plated shoes for race day.",
         variants=[("yellow", "9", {}), ("orange", "10", {})]),
    dict(code="HBOOT", brand="Trailhead", category="Footwear > Boots", title="Waterproof hiking boots",
         tags=["boots", "hiking boots", "shoes"], price="149.00",
         description="Leather hiking boots with a waterproof membrane and a grippy sole.",
         variants=[("brown", "9", {}), ("brown", "10", {}), ("brown", "11", {}),
                   ("black", "10", {"availability": "out of stock"})]),
    dict(code="CBOOT", brand="Copperleaf", category="Footwear > Boots", title="Leather Chelsea boots",
         tags=["boots", "shoes", "chelsea boots"], price="129.00",
         description="Pull-on boots with elastic sides.",
         variants=[("brown", "9", {"sale": "99.00"}), ("black", "10", {"sale": "99.00"}), ("black", "11", {})]),
    dict(code="CSNK", brand="Brightline", category="Footwear > Sneakers", title="Canvas low-top sneakers",
         tags=["sneakers", "shoes", "trainers"], price="49.00",
         description="Vulcanised canvas sneakers for every day.",
         variants=[("white", "8", {}), ("white", "9", {}), ("white", "10", {}), ("black", "9", {}),
                   ("red", "10", {})]),
    dict(code="LSNK", brand="Acme", category="Footwear > Sneakers", title="Leather court sneakers",
         tags=["sneakers", "shoes", "trainers"], price="99.00",
         description="Minimal leather sneakers with a cupsole.",
         variants=[("white", "10", {}), ("black", "11", {}), ("white", "9", {"sale": "79.00"})]),
    dict(code="SLID", brand="Tidewater", category="Footwear > Sandals", title="Slide sandals",
         tags=["sandals", "slides"], price="29.00",
         description="Cushioned slides for the pool and the beach.",
         variants=[("black", "9", {}), ("blue", "10", {}), ("white", "8", {})]),
    dict(code="HSAN", brand="Trailhead", category="Footwear > Sandals", title="Hiking sandals",
         tags=["sandals"], price="64.00",
         description="Strappy sandals with a grippy outsole for rivers and trails.",
         variants=[("grey", "10", {}), ("green", "9", {})]),
    # --- Home
    dict(code="MUG", brand="Hearthstone", category="Home > Kitchen > Mugs", title="Stoneware coffee mug",
         tags=["mug", "coffee mug", "cup"], price="14.00",
         description="12 oz stoneware mug, dishwasher safe.",
         variants=[("white", None, {}), ("blue", None, {}), ("green", None, {}), ("black", None, {}),
                   ("red", None, {"availability": "out of stock"})]),
    dict(code="TMUG", brand="Nimbus", category="Home > Kitchen > Mugs", title="Insulated travel mug",
         tags=["mug", "travel mug", "cup", "coffee mug"], price="24.99",
         description="Double-wall stainless steel mug that keeps coffee hot for six hours.",
         variants=[("silver", None, {}), ("black", None, {}), ("red", None, {})]),
    dict(code="SKIL", brand="Hearthstone", category="Home > Kitchen > Cookware", title="Cast iron skillet",
         tags=["frying pan", "skillet", "pan"], price="39.00",
         description="Pre-seasoned cast iron frying pan.",
         variants=[(None, None, {"suffix": "10 in"}), (None, None, {"suffix": "12 in", "price": "49.00"})]),
    dict(code="NPAN", brand="Copperleaf", category="Home > Kitchen > Cookware", title="Non-stick frying pan",
         tags=["frying pan", "pan"], price="34.99",
         description="Ceramic non-stick pan for eggs and pancakes, oven safe.",
         variants=[(None, None, {"suffix": "28 cm", "sale": "27.99"}), (None, None, {"suffix": "24 cm", "price": "29.99"})]),
    dict(code="SPOT", brand="Hearthstone", category="Home > Kitchen > Cookware", title="Stainless steel stock pot 8 qt",
         tags=["pot"], price="59.00", description="Tri-ply stock pot with a glass lid.", variants=[(None, None, {})]),
    dict(code="KETL", brand="Zenit", category="Home > Kitchen > Appliances", title="Electric kettle 1.7 L",
         tags=["kettle", "electric kettle"], price="44.99",
         description="Fast-boil kettle with auto shut-off.",
         variants=[("silver", None, {}), ("white", None, {"sale": "35.99"}),
                   ("black", None, {"availability": "out of stock"})]),
    dict(code="PRES", brand="Hearthstone", category="Home > Kitchen > Coffee", title="Glass French press",
         tags=["coffee maker", "french press"], price="29.00",
         description="Borosilicate glass press for four cups of coffee.", variants=[("silver", None, {})]),
    dict(code="KNIF", brand="Copperleaf", category="Home > Kitchen > Knives", title="Chef's knife 8 inch",
         tags=["knife", "kitchen knife"], price="59.00",
         description="Forged German steel chef's knife.", variants=[(None, None, {})]),
    dict(code="BTWL", brand="Solace", category="Home > Bath > Towels", title="Cotton bath towel",
         tags=["towel", "bath towel"], price="19.00",
         description="Plush 600 gsm cotton towel.",
         variants=[("white", None, {}), ("grey", None, {}), ("navy", None, {}), ("pink", None, {}),
                   ("green", None, {"availability": "out of stock"})]),
    dict(code="BHTW", brand="Tidewater", category="Home > Bath > Towels", title="Turkish beach towel",
         tags=["towel", "beach towel"], price="29.00",
         description="Light, quick-drying flat-weave towel.",
         variants=[("blue", None, {}), ("orange", None, {})]),
    dict(code="DUVT", brand="Solace", category="Home > Bedding", title="Linen duvet cover",
         tags=["duvet cover", "bedding"], price="129.00",
         description="Stonewashed linen duvet cover with button closure.",
         variants=[("white", None, {"suffix": "Queen"}), ("grey", None, {"suffix": "King"}),
                   ("beige", None, {"suffix": "Queen", "sale": "99.00"})]),
    dict(code="SHTS", brand="Solace", category="Home > Bedding", title="Percale sheet set",
         tags=["sheets", "bedding"], price="79.00",
         description="Crisp cotton percale sheets with deep pockets.",
         variants=[("white", None, {"suffix": "Queen"}), ("blue", None, {"suffix": "Full"}),
                   ("grey", None, {"suffix": "King"})]),
    dict(code="MPIL", brand="Nimbus", category="Home > Bedding", title="Memory foam pillow",
         tags=["pillow"], price="49.00", description="Contoured pillow for side sleepers.",
         variants=[(None, None, {})]),
    dict(code="DPIL", brand="Nimbus", category="Home > Bedding", title="Down alternative pillow",
         tags=["pillow"], price="29.00", description="Soft hypoallergenic pillow.",
         variants=[(None, None, {})]),
    dict(code="CUSH", brand="Everly", category="Home > Decor > Cushions", title="Velvet cushion cover",
         tags=["cushion", "cushion cover", "pillow cover"], price="24.00",
         description="45 x 45 cm velvet cover with a hidden zip.",
         variants=[("green", None, {}), ("pink", None, {}), ("yellow", None, {}), ("navy", None, {})]),
    dict(code="THRW", brand="Fernwood", category="Home > Decor > Throws", title="Wool throw blanket",
         tags=["blanket", "throw", "wool blanket"], price="69.00",
         description="Soft lambswool throw for the sofa.",
         variants=[("grey", None, {}), ("beige", None, {}), ("red", None, {})]),
    dict(code="CNDL", brand="Glowe", category="Home > Decor > Candles", title="Soy wax candle",
         tags=["candle"], price="18.00", description="Hand-poured candle with a cotton wick, 40 hours.",
         variants=[(None, None, {"suffix": "Cedar"}), (None, None, {"suffix": "Lavender"}),
                   (None, None, {"suffix": "Fig"})]),
    dict(code="TLMP", brand="Lumio", category="Home > Lighting > Lamps", title="Ceramic table lamp",
         tags=["lamp", "table lamp"], price="79.00", description="Glazed ceramic base with a linen shade.",
         variants=[("white", None, {}), ("black", None, {})]),
    dict(code="DLMP", brand="Lumio", category="Home > Lighting > Lamps", title="LED desk lamp",
         tags=["lamp", "desk lamp"], price="45.00", description="Dimmable LED lamp with a USB port.",
         variants=[("black", None, {"sale": "36.00"}), ("silver", None, {"sale": "36.00"}),
                   ("white", None, {"availability": "out of stock"})]),
    dict(code="PLNT", brand="Fernwood", category="Home > Decor > Planters", title="Ceramic plant pot",
         tags=["planter", "plant pot"], price="22.00", description="Matte pot with a drainage hole and saucer.",
         variants=[("white", None, {}), ("green", None, {})]),
    dict(code="CLCK", brand="Zenit", category="Home > Decor > Clocks", title="Minimal wall clock",
         tags=["clock", "wall clock"], price="35.00", description="Silent sweep movement, 30 cm.",
         variants=[("black", None, {}), ("white", None, {})]),
    # --- Outdoor
    dict(code="TENT2", brand="Trailhead", category="Outdoor > Camping > Tents", title="2-person backpacking tent",
         tags=["tent", "backpacking tent"], price="249.00",
         description="Lightweight freestanding tent, 1.6 kg.", variants=[("green", None, {}), ("orange", None, {})]),
    dict(code="TENT6", brand="Ridgeline", category="Outdoor > Camping > Tents", title="6-person family tent",
         tags=["tent", "family tent"], price="329.00", description="Tall cabin tent with two rooms.",
         variants=[("grey", None, {"availability": "out of stock"})]),
    dict(code="DBAG", brand="Ridgeline", category="Outdoor > Camping > Sleeping Bags", title="Down sleeping bag -5°C",
         tags=["sleeping bag"], price="199.00", description="Mummy bag with 650-fill duck down.",
         variants=[("blue", None, {}), ("red", None, {})]),
    dict(code="SBAG", brand="Trailhead", category="Outdoor > Camping > Sleeping Bags", title="Synthetic sleeping bag 5°C",
         tags=["sleeping bag"], price="89.00", description="Easy-care synthetic fill for summer camping.",
         variants=[("green", None, {})]),
    dict(code="KBAG", brand="Brightline", category="Outdoor > Camping > Sleeping Bags", title="Kids sleeping bag",
         tags=["sleeping bag", "kids sleeping bag"], price="49.00", description="Cosy bag for sleepovers and camping.",
         variants=[("yellow", None, {})]),
    dict(code="STOV", brand="Trailhead", category="Outdoor > Camping > Stoves", title="Compact camping stove",
         tags=["stove", "camping stove"], price="59.00", description="Canister stove that boils a litre in 4 minutes.",
         variants=[("silver", None, {})]),
    dict(code="HLMP", brand="Lumio", category="Outdoor > Camping > Lighting", title="Rechargeable LED headlamp",
         tags=["headlamp"], price="24.99", description="350 lumen head torch with a red night mode.",
         variants=[("black", None, {}), ("red", None, {})]),
    dict(code="LANT", brand="Lumio", category="Outdoor > Camping > Lighting", title="Camping lantern",
         tags=["lantern"], price="32.00", description="Collapsible LED lantern.", variants=[("green", None, {})]),
    dict(code="DPAK", brand="Northpeak", category="Outdoor > Backpacks", title="Daypack 20L",
         tags=["backpack", "daypack", "bag"], price="59.00", description="Everyday pack with a laptop sleeve.",
         variants=[("black", None, {}), ("blue", None, {}), ("red", None, {"sale": "47.00"})]),
    dict(code="HPAK", brand="Trailhead", category="Outdoor > Backpacks", title="Hiking backpack 45L",
         tags=["backpack", "hiking backpack", "bag"], price="139.00", description="Ventilated back system and rain cover.",
         variants=[("green", None, {}), ("grey", None, {})]),
    dict(code="SBTL", brand="Nimbus", category="Outdoor > Water Bottles", title="Stainless steel water bottle 750 ml",
         tags=["water bottle", "bottle"], price="27.00", description="Vacuum insulated, cold for 24 hours.",
         variants=[("silver", None, {}), ("blue", None, {}), ("black", None, {}), ("pink", None, {})]),
    dict(code="CBTL", brand="Tidewater", category="Outdoor > Water Bottles", title="Collapsible water bottle 500 ml",
         tags=["water bottle", "bottle"], price="15.00", description="Silicone bottle that rolls up when empty.",
         variants=[("blue", None, {})]),
    dict(code="POLE", brand="Trailhead", category="Outdoor > Hiking", title="Aluminium trekking poles",
         tags=["trekking poles", "hiking poles"], price="69.00", description="Pair of adjustable poles.",
         variants=[("black", None, {})]),
    dict(code="CHAR", brand="Ridgeline", category="Outdoor > Camping > Furniture", title="Folding camping chair",
         tags=["camping chair", "chair"], price="45.00", description="Packs into its own bag, holds 120 kg.",
         variants=[("green", None, {}), ("blue", None, {})]),
    dict(code="COOL", brand="Tidewater", category="Outdoor > Camping > Coolers", title="Hard cooler 25 L",
         tags=["cooler"], price="89.00", description="Keeps ice for three days.",
         variants=[("white", None, {}), ("blue", None, {"availability": "out of stock"})]),
    # --- Electronics
    dict(code="OHPH", brand="Aurora", category="Electronics > Audio > Headphones", title="Wireless over-ear headphones",
         tags=["headphones", "wireless headphones"], price="149.00", description="Bluetooth headphones with a 40-hour battery.",
         variants=[("black", None, {"sale": "119.00"}), ("white", None, {"sale": "119.00"}), ("blue", None, {})]),
    dict(code="NCPH", brand="Zenit", category="Electronics > Audio > Headphones", title="Noise-cancelling headphones",
         tags=["headphones", "wireless headphones", "noise cancelling headphones"], price="249.00",
         description="Active noise cancelling wireless headphones.", variants=[("black", None, {}), ("silver", None, {})]),
    dict(code="KHPH", brand="Brightline", category="Electronics > Audio > Headphones", title="Kids headphones",
         tags=["headphones", "kids headphones"], price="29.99", description="Volume-limited wired headphones for children.",
         variants=[("pink", None, {}), ("blue", None, {})]),
    dict(code="TWEB", brand="Aurora", category="Electronics > Audio > Earbuds", title="True wireless earbuds",
         tags=["earbuds", "earphones", "wireless earbuds"], price="79.00", description="Pocketable earbuds with a charging case.",
         variants=[("black", None, {}), ("white", None, {})]),
    dict(code="SPEB", brand="Pulse", category="Electronics > Audio > Earbuds", title="Sport earbuds with ear hooks",
         tags=["earbuds", "earphones"], price="59.00", description="Sweat-proof buds that stay put on a run.",
         variants=[("black", None, {}), ("green", None, {})]),
    dict(code="BTSP", brand="Aurora", category="Electronics > Audio > Speakers", title="Portable Bluetooth speaker",
         tags=["speaker", "bluetooth speaker"], price="59.99", description="Waterproof speaker with a 12-hour battery.",
         variants=[("black", None, {}), ("blue", None, {}), ("red", None, {"sale": "49.99"})]),
    dict(code="SMSP", brand="Zenit", category="Electronics > Audio > Speakers", title="Smart speaker",
         tags=["speaker", "smart speaker"], price="99.00", description="Voice assistant speaker with room-filling sound.",
         variants=[("grey", None, {})]),
    dict(code="CHGR", brand="Zenit", category="Electronics > Accessories > Chargers", title="30W USB-C fast charger",
         tags=["charger"], price="24.00", description="Compact wall charger for phones and tablets.",
         variants=[("white", None, {})]),
    dict(code="WCHG", brand="Lumio", category="Electronics > Accessories > Chargers", title="Wireless charging pad",
         tags=["charger", "wireless charger"], price="29.00", description="Qi charging pad for phones and earbuds.",
         variants=[("black", None, {}), ("white", None, {})]),
    dict(code="PBNK", brand="Zenit", category="Electronics > Accessories > Power Banks", title="Power bank 10000 mAh",
         tags=["power bank", "portable charger"], price="34.99", description="Slim battery pack with USB-C in and out.",
         variants=[("black", None, {}), ("white", None, {})]),
    dict(code="CABL", brand="Zenit", category="Electronics > Accessories > Cables", title="USB-C cable 2 m",
         tags=["cable", "usb cable", "charging cable"], price="12.00", description="Braided cable, 60 W charging.",
         variants=[("black", None, {}), ("white", None, {})]),
    dict(code="SCAS", brand="Brightline", category="Electronics > Accessories > Phone Cases", title="Silicone phone case",
         tags=["phone case", "case"], price="19.00", description="Soft-touch case with raised edges.",
         variants=[("black", None, {}), ("blue", None, {}), ("pink", None, {}), ("green", None, {})]),
    dict(code="LCAS", brand="Copperleaf", category="Electronics > Accessories > Phone Cases", title="Leather phone case",
         tags=["phone case", "case"], price="39.00", description="Full-grain leather that ages well.",
         variants=[("brown", None, {})]),
    dict(code="WTCH", brand="Aurora", category="Electronics > Wearables", title="Smartwatch with GPS",
         tags=["smartwatch", "watch"], price="199.00", description="Heart rate, GPS and a week of battery.",
         variants=[("black", None, {}), ("silver", None, {}), ("gold", None, {"availability": "out of stock"})]),
    dict(code="FTRK", brand="Pulse", category="Electronics > Wearables", title="Fitness tracker",
         tags=["fitness tracker"], price="69.00", description="Step, sleep and heart rate tracking band.",
         variants=[("black", None, {}), ("pink", None, {})]),
    dict(code="KBRD", brand="Zenit", category="Electronics > Computer Accessories", title="Mechanical keyboard",
         tags=["keyboard"], price="89.00", description="Hot-swappable switches, USB-C.",
         variants=[("black", None, {}), ("white", None, {})]),
    dict(code="MOUS", brand="Zenit", category="Electronics > Computer Accessories", title="Wireless mouse",
         tags=["mouse"], price="25.00", description="Quiet clicks, two-year battery.",
         variants=[("black", None, {}), ("grey", None, {})]),
    dict(code="SLEV", brand="Fernwood", category="Electronics > Computer Accessories", title="Felt laptop sleeve 13 inch",
         tags=["laptop sleeve", "laptop case"], price="35.00", description="Wool felt sleeve with a leather strap.",
         variants=[("grey", None, {}), ("navy", None, {})]),
    # --- Beauty
    dict(code="FCRM", brand="Glowe", category="Beauty > Skincare", title="Hydrating face cream 50 ml",
         tags=["face cream", "moisturizer"], price="32.00", description="Daily moisturiser with hyaluronic acid.",
         variants=[(None, None, {})]),
    dict(code="NCRM", brand="Glowe", category="Beauty > Skincare", title="Retinol night cream 50 ml",
         tags=["face cream", "night cream", "moisturizer"], price="38.00", description="Overnight renewing cream for the face.",
         variants=[(None, None, {"availability": "out of stock"})]),
    dict(code="SERM", brand="Glowe", category="Beauty > Skincare", title="Vitamin C serum 30 ml",
         tags=["serum"], price="28.00", description="Brightening serum.", variants=[(None, None, {"sale": "22.00"})]),
    dict(code="SUNS", brand="Everly", category="Beauty > Skincare", title="Mineral sunscreen SPF 50",
         tags=["sunscreen"], price="18.00", description="Zinc sunscreen for face and body.", variants=[(None, None, {})]),
    dict(code="LIPS", brand="Everly", category="Beauty > Makeup", title="Matte lipstick",
         tags=["lipstick"], price="16.00", description="Long-wearing matte lip colour.",
         variants=[("red", None, {}), ("pink", None, {}), ("brown", None, {})]),
    dict(code="NAIL", brand="Everly", category="Beauty > Makeup", title="Gel nail polish",
         tags=["nail polish"], price="9.00", description="Chip-resistant gel finish without a lamp.",
         variants=[("red", None, {}), ("pink", None, {}), ("purple", None, {}), ("black", None, {})]),
    dict(code="SHMP", brand="Glowe", category="Beauty > Hair Care", title="Argan oil shampoo 300 ml",
         tags=["shampoo"], price="14.50", description="Sulphate-free shampoo for dry hair.", variants=[(None, None, {})]),
    dict(code="COND", brand="Glowe", category="Beauty > Hair Care", title="Argan oil conditioner 300 ml",
         tags=["conditioner"], price="14.50", description="Detangling conditioner.", variants=[(None, None, {})]),
    dict(code="BRSH", brand="Fernwood", category="Beauty > Hair Care", title="Bamboo hairbrush",
         tags=["hairbrush", "brush"], price="12.00", description="Paddle brush with bamboo pins.", variants=[(None, None, {})]),
    dict(code="PARF", brand="Solace", category="Beauty > Fragrance", title="Eau de parfum 50 ml",
         tags=["perfume", "fragrance"], price="68.00", description="A warm, woody scent.",
         variants=[(None, None, {"suffix": "Amber"}), (None, None, {"suffix": "Citrus"})]),
    dict(code="BALM", brand="Glowe", category="Beauty > Skincare", title="Shea lip balm",
         tags=["lip balm"], price="5.00", description="Nourishing balm for dry lips.", variants=[(None, None, {})]),
    # --- Sporting goods
    dict(code="YMAT", brand="Pulse", category="Sporting Goods > Yoga", title="Non-slip yoga mat",
         tags=["yoga mat", "mat"], price="39.00", description="6 mm mat with an alignment grid.",
         variants=[("purple", None, {}), ("blue", None, {}), ("black", None, {})]),
    dict(code="YBLK", brand="Pulse", category="Sporting Goods > Yoga", title="Cork yoga block",
         tags=["yoga block"], price="15.00", description="Firm natural cork block.", variants=[(None, None, {})]),
    dict(code="DUMB", brand="Ridgeline", category="Sporting Goods > Fitness", title="Adjustable dumbbell set",
         tags=["dumbbells", "weights"], price="149.00", description="Two dumbbells from 2 to 24 kg.",
         variants=[("black", None, {})]),
    dict(code="BAND", brand="Pulse", category="Sporting Goods > Fitness", title="Resistance band set",
         tags=["resistance bands"], price="19.00", description="Five latex bands with handles.", variants=[(None, None, {})]),
    dict(code="ROPE", brand="Pulse", category="Sporting Goods > Fitness", title="Speed jump rope",
         tags=["jump rope"], price="12.00", description="Ball-bearing rope for double unders.",
         variants=[("black", None, {}), ("pink", None, {})]),
]  # fmt: skip

# (id, language, text, kinds wanted ([] = any product), constraints as stated)
# Constraints: max/min (major units, bounds included), cheap, in_stock, color/size/brand/category lists.
QUESTIONS: list[tuple[str, str, str, list[str], dict[str, Any]]] = [
    ("q001", "en", "merino socks under $20", ["merino socks"], {"max": "19.99", "category": ["Socks"]}),
    ("q002", "en", "running shoes under 100", ["running shoes"], {"max": "99.99", "category": ["Running Shoes"]}),
    ("q003", "en", "headphones for less than 50 dollars", ["headphones"], {"max": "49.99", "category": ["Headphones"]}),
    ("q004", "en", "a hoodie between 40 and 60", ["hoodie"], {"min": "40", "max": "60", "category": ["Hoodies"]}),
    ("q005", "en", "cheap socks", ["socks"], {"cheap": True, "category": ["Socks"]}),
    ("q006", "en", "tent below 300 dollars", ["tent"], {"max": "299.99", "category": ["Tents"]}),
    ("q007", "en", "water bottle max 25", ["water bottle"], {"max": "25", "category": ["Water Bottles"]}),
    ("q008", "en", "something under $30", [], {"max": "29.99"}),
    ("q009", "en", "jackets over 150", ["jacket"], {"min": "150.01", "category": ["Jackets"]}),
    ("q010", "en", "sleeping bag from 100 to 200", ["sleeping bag"], {"min": "100", "max": "200", "category": ["Sleeping Bags"]}),
    ("q011", "en", "bluetooth speaker up to $60", ["bluetooth speaker"], {"max": "60", "category": ["Speakers"]}),
    ("q012", "en", "no more than 40 for a yoga mat", ["yoga mat"], {"max": "40"}),
    ("q013", "en", "face cream at most 35", ["face cream"], {"max": "35"}),
    ("q014", "en", "phone case under 20", ["phone case"], {"max": "19.99", "category": ["Phone Cases"]}),
    ("q015", "en", "keyboard under 50", ["keyboard"], {"max": "49.99"}),
    ("q016", "en", "tent under 100", ["tent"], {"max": "99.99", "category": ["Tents"]}),
    ("q017", "en", "the cheapest headphones", ["headphones"], {"cheap": True, "category": ["Headphones"]}),
    ("q018", "en", "affordable backpack", ["backpack"], {"cheap": True, "category": ["Backpacks"]}),
    ("q019", "en", "budget earbuds", ["earbuds"], {"cheap": True, "category": ["Earbuds"]}),
    ("q020", "en", "hiking boots in stock", ["hiking boots"], {"in_stock": True, "category": ["Boots"]}),
    ("q021", "en", "down jacket available now", ["down jacket"], {"in_stock": True, "category": ["Jackets"]}),
    ("q022", "en", "is the family tent in stock?", ["family tent"], {"in_stock": True, "category": ["Tents"]}),
    ("q023", "en", "red running shoes in size 10, available now", ["running shoes"],
     {"in_stock": True, "color": ["red"], "size": ["10"], "category": ["Running Shoes"]}),
    ("q024", "en", "blue socks", ["socks"], {"color": ["blue"], "category": ["Socks"]}),
    ("q025", "en", "black hoodie in size XL", ["hoodie"], {"color": ["black"], "size": ["XL"], "category": ["Hoodies"]}),
    ("q026", "en", "white sneakers size 9", ["sneakers"], {"color": ["white"], "size": ["9"], "category": ["Sneakers"]}),
    ("q027", "en", "Acme hoodie", ["hoodie"], {"brand": ["Acme"], "category": ["Hoodies"]}),
    ("q028", "en", "anything from Trailhead under 70", [], {"brand": ["Trailhead"], "max": "69.99"}),
    ("q029", "en", "Aurora headphones", ["headphones"], {"brand": ["Aurora"], "category": ["Headphones"]}),
    ("q030", "en", "navy sweater", ["sweater"], {"color": ["navy"], "category": ["Sweaters"]}),
    ("q031", "en", "green tent", ["tent"], {"color": ["green"], "category": ["Tents"]}),
    ("q032", "en", "pink phone case", ["phone case"], {"color": ["pink"], "category": ["Phone Cases"]}),
    ("q033", "en", "purple socks", ["socks"], {"color": ["purple"], "category": ["Socks"]}),
    ("q034", "en", "red dress in S", ["dress"], {"color": ["red"], "size": ["S"], "category": ["Dresses"]}),
    ("q035", "en", "slim jeans waist 34", ["slim jeans"], {"size": ["34"], "category": ["Jeans"]}),
    ("q036", "en", "electronics under 30", [], {"max": "29.99", "category": ["Electronics"]}),
    ("q037", "en", "beauty products under 15", [], {"max": "14.99", "category": ["Beauty"]}),
    ("q038", "en", "something blue for the kitchen", [], {"color": ["blue"], "category": ["Kitchen"]}),
    ("q039", "en", "waterproof jacket", ["waterproof jacket"], {"category": ["Jackets"]}),
    ("q040", "en", "trail running shoes, black, size 10", ["trail running shoes"],
     {"color": ["black"], "size": ["10"], "category": ["Running Shoes"]}),
    ("q041", "en", "wool blanket", ["wool blanket"], {}),
    ("q042", "en", "lamp for my desk", ["desk lamp"], {"category": ["Lamps"]}),
    ("q043", "en", "electric kettle", ["electric kettle"], {}),
    ("q044", "en", "frying pan under 30", ["frying pan"], {"max": "29.99"}),
    ("q045", "en", "headlamp", ["headlamp"], {}),
    ("q046", "en", "smartwatch in silver", ["smartwatch"], {"color": ["silver"]}),
    ("q047", "en", "pink fitness tracker", ["fitness tracker"], {"color": ["pink"]}),
    ("q048", "en", "red speaker under 70", ["speaker"], {"max": "69.99", "color": ["red"], "category": ["Speakers"]}),
    ("q049", "en", "Kora t-shirt in white, size M", ["t-shirt"],
     {"color": ["white"], "size": ["M"], "brand": ["Kora"], "category": ["T-shirts"]}),
    ("q050", "en", "coffee mug", ["coffee mug"], {"category": ["Mugs"]}),
    ("q051", "en", "sunscreen", ["sunscreen"], {}),
    ("q052", "en", "red lipstick", ["lipstick"], {"color": ["red"]}),
    ("q053", "en", "dumbbells", ["dumbbells"], {}),
    ("q054", "en", "a cooler that is in stock", ["cooler"], {"in_stock": True, "category": ["Coolers"]}),
    ("q055", "en", "shoes for running under 90", ["running shoes"], {"max": "89.99"}),
    ("q056", "en", "waterproof boots size 11 in stock", ["hiking boots"],
     {"in_stock": True, "size": ["11"], "category": ["Boots"]}),
    ("q057", "en", "jacket in size XXL", ["jacket"], {"size": ["XXL"], "category": ["Jackets"]}),
    ("q058", "en", "Northpeak backpack under 50", ["backpack"], {"max": "49.99", "brand": ["Northpeak"], "category": ["Backpacks"]}),
    ("q059", "en", "something for camping under $30", [], {"max": "29.99", "category": ["Camping"]}),
    ("q060", "en", "trainers", ["trainers"], {}),
    ("q061", "en", "earphones", ["earphones"], {}),
    ("q062", "en", "cheap pillow", ["pillow"], {"cheap": True}),
    ("q063", "en", "gold smartwatch in stock", ["smartwatch"], {"in_stock": True, "color": ["gold"]}),
    ("q064", "en", "bath towel in grey", ["bath towel"], {"color": ["grey"], "category": ["Towels"]}),
    ("q065", "en", "size M hoodie under 50", ["hoodie"], {"max": "49.99", "size": ["M"], "category": ["Hoodies"]}),
    ("q066", "en", "Brightline sneakers in red", ["sneakers"], {"color": ["red"], "brand": ["Brightline"], "category": ["Sneakers"]}),
    ("q067", "en", "white duvet cover", ["duvet cover"], {"color": ["white"]}),
    ("q068", "en", "nail polish under 10 dollars", ["nail polish"], {"max": "9.99"}),
    ("q069", "en", "laptop sleeve", ["laptop sleeve"], {}),
    ("q070", "en", "kayak", ["kayak"], {}),
    ("q071", "en", "yellow rain jacket size M", ["rain jacket"], {"color": ["yellow"], "size": ["M"], "category": ["Jackets"]}),
    ("q072", "en", "orange shoes", ["shoes"], {"color": ["orange"]}),
    ("q073", "en", "cheap kitchen stuff", [], {"cheap": True, "category": ["Kitchen"]}),
    ("q074", "en", "Pulse stuff under 15 dollars", [], {"max": "14.99", "brand": ["Pulse"]}),
    ("q075", "en", "grey or black beanie", ["beanie"], {"color": ["grey", "black"]}),
    ("q076", "en", "shampoo", ["shampoo"], {}),
    ("s01", "es", "calcetines azules", ["socks"], {"color": ["blue"], "category": ["Socks"]}),
    ("s02", "es", "zapatillas para correr por menos de 100 dólares", ["running shoes"],
     {"max": "99.99", "category": ["Running Shoes"]}),
    ("s03", "es", "auriculares baratos", ["headphones"], {"cheap": True, "category": ["Headphones"]}),
    ("s04", "es", "una chaqueta impermeable en talla M", ["waterproof jacket"], {"size": ["M"], "category": ["Jackets"]}),
    ("s05", "es", "sudadera negra talla XL", ["hoodie"], {"color": ["black"], "size": ["XL"], "category": ["Hoodies"]}),
    ("s06", "es", "mochila entre 50 y 80 dólares", ["backpack"], {"min": "50", "max": "80", "category": ["Backpacks"]}),
    ("s07", "es", "algo de Trailhead en stock", [], {"in_stock": True, "brand": ["Trailhead"]}),
    ("s08", "es", "taza roja", ["mug"], {"color": ["red"], "category": ["Mugs"]}),
    ("s09", "es", "botella de agua de máximo 20 dólares", ["water bottle"], {"max": "20", "category": ["Water Bottles"]}),
    ("s10", "es", "tienda de campaña verde", ["tent"], {"color": ["green"], "category": ["Tents"]}),
    ("s11", "es", "crema facial barata", ["face cream"], {"cheap": True}),
    ("s12", "es", "funda de teléfono rosa", ["phone case"], {"color": ["pink"], "category": ["Phone Cases"]}),
    ("s13", "es", "vestido blanco disponible", ["dress"], {"in_stock": True, "color": ["white"], "category": ["Dresses"]}),
    ("s14", "es", "reloj inteligente de menos de 150", ["smartwatch"], {"max": "149.99"}),
    ("s15", "es", "altavoz bluetooth azul", ["bluetooth speaker"], {"color": ["blue"], "category": ["Speakers"]}),
    ("s16", "es", "zapatillas blancas talla 9", ["sneakers"], {"color": ["white"], "size": ["9"], "category": ["Sneakers"]}),
    ("t01", "pt_BR", "meias pretas", ["socks"], {"color": ["black"], "category": ["Socks"]}),
    ("t02", "pt_BR", "tênis de corrida até 120", ["running shoes"], {"max": "120", "category": ["Running Shoes"]}),
    ("t03", "pt_BR", "fone de ouvido barato", ["headphones"], {"cheap": True, "category": ["Headphones"]}),
    ("t04", "pt_BR", "jaqueta impermeável tamanho M", ["waterproof jacket"], {"size": ["M"], "category": ["Jackets"]}),
    ("t05", "pt_BR", "moletom cinza", ["hoodie"], {"color": ["grey"], "category": ["Hoodies"]}),
    ("t06", "pt_BR", "mochila entre 50 e 80", ["backpack"], {"min": "50", "max": "80", "category": ["Backpacks"]}),
    ("t07", "pt_BR", "garrafa de água abaixo de 20", ["water bottle"], {"max": "19.99", "category": ["Water Bottles"]}),
    ("t08", "pt_BR", "caneca azul", ["mug"], {"color": ["blue"], "category": ["Mugs"]}),
    ("t09", "pt_BR", "barraca em estoque", ["tent"], {"in_stock": True, "category": ["Tents"]}),
    ("t10", "pt_BR", "produtos da Aurora com menos de 100", [], {"max": "99.99", "brand": ["Aurora"]}),
    ("t11", "pt_BR", "capinha de celular verde", ["phone case"], {"color": ["green"], "category": ["Phone Cases"]}),
    ("t12", "pt_BR", "vestido vermelho tamanho P", ["dress"], {"color": ["red"], "size": ["S"], "category": ["Dresses"]}),
    ("t13", "pt_BR", "relógio inteligente prateado", ["smartwatch"], {"color": ["silver"]}),
    ("t14", "pt_BR", "tapete de yoga roxo", ["yoga mat"], {"color": ["purple"]}),
    ("t15", "pt_BR", "o mais barato em eletrônicos", [], {"cheap": True, "category": ["Electronics"]}),
    ("t16", "pt_BR", "sandálias pretas tamanho 9", ["sandals"], {"color": ["black"], "size": ["9"], "category": ["Sandals"]}),
    ("t17", "pt_BR", "barraca por menos de 100", ["tent"], {"max": "99.99", "category": ["Tents"]}),
    ("h01", "hi", "नीले मोज़े", ["socks"], {"color": ["blue"], "category": ["Socks"]}),
    ("h02", "hi", "100 डॉलर से कम के रनिंग शूज़", ["running shoes"], {"max": "99.99", "category": ["Running Shoes"]}),
    ("h03", "hi", "सस्ते हेडफ़ोन", ["headphones"], {"cheap": True, "category": ["Headphones"]}),
    ("h04", "hi", "काली हुडी XL साइज़ में", ["hoodie"], {"color": ["black"], "size": ["XL"], "category": ["Hoodies"]}),
    ("h05", "hi", "स्टॉक में टेंट", ["tent"], {"in_stock": True, "category": ["Tents"]}),
    ("h06", "hi", "लाल मग", ["mug"], {"color": ["red"], "category": ["Mugs"]}),
    ("h07", "hi", "50 से 80 डॉलर के बीच बैकपैक", ["backpack"], {"min": "50", "max": "80", "category": ["Backpacks"]}),
    ("h08", "hi", "हरी पानी की बोतल", ["water bottle"], {"color": ["green"], "category": ["Water Bottles"]}),
    ("h09", "hi", "सस्ता फ़ोन कवर", ["phone case"], {"cheap": True, "category": ["Phone Cases"]}),
    ("h10", "hi", "Aurora के स्पीकर 70 डॉलर तक", ["speaker"], {"max": "70", "brand": ["Aurora"], "category": ["Speakers"]}),
    ("h11", "hi", "सफ़ेद स्नीकर्स साइज़ 9", ["sneakers"], {"color": ["white"], "size": ["9"], "category": ["Sneakers"]}),
    ("h12", "hi", "ऊनी कंबल", ["wool blanket"], {}),
    ("h13", "hi", "उपलब्ध स्मार्टवॉच", ["smartwatch"], {"in_stock": True}),
    ("h14", "hi", "30 डॉलर से कम में कुछ भी", [], {"max": "29.99"}),
    ("h15", "hi", "गुलाबी लिपस्टिक", ["lipstick"], {"color": ["pink"]}),
    ("h16", "hi", "नीली योगा मैट", ["yoga mat"], {"color": ["blue"]}),
]  # fmt: skip

# Follow-ups: (id, asked after, text, constraints of the refined question). The products shown
# before are the first three acceptable answers of the earlier question, in catalog order;
# "cheaper" is written as the price one cent under the cheapest of them, and a follow-up that
# "sets aside" the shown ones ("something else") accepts none of them.
FOLLOW_UPS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("f01", "q024", "in black", {"color": ["black"], "category": ["Socks"]}),
    ("f02", "q002", "cheaper", {"max": "cheaper", "category": ["Running Shoes"]}),
    ("f03", "q005", "something else from Acme",
     {"cheap": True, "brand": ["Acme"], "category": ["Socks"], "sets_aside_shown": True}),
    ("f04", "q025", "in size M", {"color": ["black"], "size": ["M"], "category": ["Hoodies"]}),
    ("f05", "q003", "what about under 150?", {"max": "149.99", "category": ["Headphones"]}),
    ("f06", "q011", "in stock only", {"max": "60", "in_stock": True, "category": ["Speakers"]}),
    ("f07", "q029", "any in white?", {"color": ["white"], "brand": ["Aurora"], "category": ["Headphones"]}),
    ("f08", "s01", "¿y en negro?", {"color": ["black"], "category": ["Socks"]}),
    ("f09", "t02", "mais barato", {"max": "cheaper", "category": ["Running Shoes"]}),
    ("f10", "h01", "काले में दिखाओ", {"color": ["black"], "category": ["Socks"]}),
]  # fmt: skip


def products() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for family in FAMILIES:
        for colour, size, extra in family["variants"]:
            number = len(out) + 1
            out.append(_product(family, number, colour, size, extra))
    return out


def _product(family: dict[str, Any], number: int, colour: str | None, size: str | None, extra: dict) -> dict:
    parts = [family["title"]]
    if colour and not family.get("desc_colour"):
        parts.append(colour)
    if extra.get("suffix"):
        parts.append(extra["suffix"])
    if size:
        parts.append(size)
    description = family["description"].format(colour=colour or "")
    # Green and grey share their first letters: the colour is spelt out, as many feeds do.
    sku = "-".join(
        p for p in (family["code"], (colour or "").upper(), size or extra.get("suffix", "").upper()) if p
    )
    price = extra.get("price", family["price"])
    product: dict[str, Any] = {
        "id": f"p{number:03d}",
        "retailer_id": sku.replace(" ", ""),
        "title": " - ".join(parts),
        "description": description,
        "brand": family["brand"],
        "category": family["category"],
        "price": {"amount": _minor(price), "currency": CURRENCY},
        "availability": extra.get("availability", "in stock"),
        "item_group_id": family["code"],
    }
    if extra.get("sale"):
        product["sale_price"] = {"amount": _minor(extra["sale"]), "currency": CURRENCY}
    product["truth"] = {
        "kinds": family["tags"],
        "colors": list(COLOUR_TRUTH.get(colour, (colour,))) if colour else [],
        "sizes": [size] if size else [],
    }
    return product


def _minor(price: str) -> int:
    return int(Decimal(price) * 100)


def constraints(stated: dict[str, Any]) -> dict[str, Any]:
    """A question's stated constraints in the shape ``Constraints.to_dict`` writes."""
    attributes = [
        [kind, value] for kind in ("color", "size", "brand", "category") for value in stated.get(kind, [])
    ]
    return {
        "min_price": stated.get("min"),
        "max_price": stated.get("max"),
        "cheap": bool(stated.get("cheap", False)),
        "in_stock": bool(stated.get("in_stock", False)),
        "attributes": attributes,
    }


def effective(product: dict[str, Any]) -> Decimal:
    price = product["price"]["amount"]
    sale = product.get("sale_price")
    if sale is not None and sale["amount"] < price:
        price = sale["amount"]
    return Decimal(price) / 100


def truly_fits(product: dict[str, Any], wants: list[str], stated: dict[str, Any]) -> bool:
    truth = product["truth"]
    price = effective(product)
    steps = [s.strip().casefold() for s in product["category"].split(">")]
    checks = [
        not wants or bool(set(wants) & set(truth["kinds"])),
        stated.get("min") is None or price >= Decimal(stated["min"]),
        stated.get("max") is None or price <= Decimal(stated["max"]),
        not stated.get("in_stock") or product["availability"] == "in stock",
        not stated.get("color") or bool(set(stated["color"]) & set(truth["colors"])),
        not stated.get("size") or bool(set(stated["size"]) & set(truth["sizes"])),
        not stated.get("brand") or product["brand"] in stated["brand"],
        not stated.get("category") or any(c.casefold() in steps for c in stated["category"]),
    ]
    return all(checks)


def acceptable(catalog: list[dict[str, Any]], wants: list[str], stated: dict[str, Any]) -> list[str]:
    found = [p for p in catalog if truly_fits(p, wants, stated)]
    if stated.get("cheap") and found:
        now = [p for p in found if p["availability"] == "in stock"] or found
        lowest = min(effective(p) for p in now)
        found = [p for p in now if effective(p) <= lowest * CHEAP_FACTOR]
    return [p["id"] for p in found]


def questions(catalog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for qid, language, text, wants, stated in QUESTIONS:
        entry = _question(catalog, qid, language, text, wants, stated)
        by_id[qid] = entry | {"_wants": wants}
        out.append(entry)
    for qid, after, text, stated in FOLLOW_UPS:
        earlier = by_id[after]
        shown = earlier["acceptable"][:3]
        stated = dict(stated)
        if stated.get("max") == "cheaper":
            cheapest = min(effective(p) for p in catalog if p["id"] in shown)
            stated["max"] = str(cheapest - Decimal("0.01"))
        sets_aside = stated.pop("sets_aside_shown", False)
        entry = _question(catalog, qid, earlier["language"], text, earlier["_wants"], stated)
        if sets_aside:
            entry["acceptable"] = [i for i in entry["acceptable"] if i not in shown]
            entry["none_fits"] = not entry["acceptable"]
        out.append(entry | {"after": after, "shown": shown, "sets_aside_shown": sets_aside})
    return out


def _question(catalog, qid, language, text, wants, stated) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    found = acceptable(catalog, wants, stated)
    return {
        "id": qid,
        "language": language,
        "text": text,
        "wants": wants,
        "constraints": constraints(stated),
        "acceptable": found,
        "none_fits": not found,
    }


def write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    """One JSON object a line inside a list: readable in a diff, loadable as plain JSON."""
    body = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in rows)
    path.write_text(f"[\n{body}\n]\n", encoding="utf-8")


def main() -> None:
    catalog = products()
    write_lines(HERE / "catalog.json", catalog)
    labelled = questions(catalog)
    write_lines(HERE / "questions.json", labelled)
    none = sum(q["none_fits"] for q in labelled)
    print(f"{len(catalog)} products, {len(labelled)} questions ({none} that nothing fits)")


if __name__ == "__main__":
    main()
