"""Every sentence the assistant says, in English, as the message ids of its gettext catalogs.

The English text is the id (gettext's convention), so a sentence reads in place; the catalogs in
``locales/`` carry it in every other language the assistant speaks. Placeholders are named,
``{shop}``, and filled by :meth:`chatshop.assistant.i18n.Translator.text` after translation, so a
translator may move them. Button titles are at most 20 characters and list row titles 24 (Meta's
limits) in every language; the catalog test checks that.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark for translation")
    """Marks a message for the catalogs; the lookup happens where it is said."""
    return message


# --- Greeting and menu ------------------------------------------------------------------------------

WELCOME = N_("Welcome to {shop}! How can we help you today?")
WELCOME_NAMED = N_("Hi {name}, welcome to {shop}! How can we help you today?")
WELCOME_AGAIN = N_("Hi again! Ask me about any product, or pick an option from the menu above.")
NOT_UNDERSTOOD = N_(
    "Sorry, I did not understand that. You can browse our catalog, ask me about a product, "
    "or talk to a person."
)
BUTTON_BROWSE = N_("Browse catalog")
BUTTON_ASK = N_("Ask a question")
BUTTON_AGENT = N_("Talk to a person")
BUTTON_MENU = N_("Menu")
BUTTON_ORDER = N_("Order this")
BUTTON_MORE = N_("Show more")
ASK_PROMPT = N_(
    "Sure! Tell me what you are looking for: a product, a colour, a size or a budget, "
    "like \u201c{example}\u201d."
)
# The example inside ASK_PROMPT: a product under a price, with the price in the shop's currency.
ASK_EXAMPLE = N_("a warm jacket under {price}")

# --- Browsing ---------------------------------------------------------------------------------------

CATEGORIES_BODY = N_("What would you like to see? Pick a category.")
CATEGORIES_BUTTON = N_("Categories")
CATEGORIES_SECTION = N_("Categories")
CATEGORY_ROW = N_("In stock: {count}")
OTHER_CATEGORY = N_("Other products")
CATALOG_EMPTY = N_("There is nothing in stock right now. Please check back soon, or talk to a person.")
CATEGORY_EMPTY = N_("Nothing in {category} is in stock right now. Pick another category or ask me.")
CATEGORY_BODY = N_("This is what we have in {category}. Tap a product to see it.")
PRODUCTS_BUTTON = N_("See products")
PRODUCTS_SECTION = N_("Products")
MORE_ROW_TITLE = N_("More products")
MORE_ROW_DESCRIPTION = N_("See the next ones")
NOTHING_MORE = N_("That is everything I have to show. Ask me about a product, or type \u201cmenu\u201d.")

# --- Products ---------------------------------------------------------------------------------------

IN_STOCK = N_("In stock")
OUT_OF_STOCK = N_("Out of stock")
PREORDER = N_("Available for pre-order")
AVAILABLE_FOR_ORDER = N_("Available to order")
DISCONTINUED = N_("No longer available")
SALE_PRICE = N_("{sale} (was {price})")
ROW_DESCRIPTION = N_("{price} \u00b7 {availability}")
PRODUCT_CAPTION = N_("{title}\n{price} \u00b7 {availability}")
PRODUCT_GONE = N_("Sorry, that product is no longer in our catalog.")
WHICH_ONE = N_("Which one do you mean? Tap a product in the list, or ask me again.")

# --- Advice -----------------------------------------------------------------------------------------

ADVICE_INTRO = N_("Here is what I found:")
ADVICE_LINE = N_("{position}. {title}: {price}, {availability}")
ADVICE_OUTRO = N_("Tap a product to see it or to order it.")
NO_FIT = N_("Sorry, we have nothing that matches all of that.")
ALTERNATIVES_INTRO = N_("The closest we have:")
ALTERNATIVE_LINE = N_("{position}. {title}: {price}, {availability} ({why})")
BROKE_PRICE = N_("another price")
BROKE_STOCK = N_("not in stock")
BROKE_COLOR = N_("another colour")
BROKE_SIZE = N_("another size")
BROKE_BRAND = N_("another brand")
BROKE_CATEGORY = N_("another kind")
NO_MATCH = N_(
    "Sorry, I could not find anything like that in our catalog. "
    "You can browse the catalog, ask me in other words, or talk to a person."
)

# --- A person ---------------------------------------------------------------------------------------

HANDOFF = N_("Thanks! A person from {shop} will answer you here as soon as they can.")
HANDOFF_AFTER_FAILURES = N_(
    "I am sorry I could not help. A person from {shop} will answer you here as soon as they can."
)
ORDER_HANDOFF = N_("Thanks! A person from {shop} will confirm your order of {title} here shortly.")

# --- A photo the customer sent (said by the photo search worker) ------------------------------------

# TRANSLATORS: At most 60 characters (Meta's limit on a product list's header).
PHOTO_LIST_HEADER = N_("Matches for your photo")
PHOTO_LIST_BODY = N_("These products look most like your photo. Tap one to see it.")
PHOTO_LIST_SECTION = N_("Best matches")
PHOTO_LISTING_INTRO = N_("This is what we found for your photo:")
PHOTO_LISTING_LINE = N_("{position}. {title} - {price}")
PHOTO_NO_MATCH = N_(
    "We could not find a product like the one in your photo. "
    "Try another photo, or tell us in a few words what you are looking for."
)
PHOTO_UNREADABLE = N_(
    "Sorry, we could not read that photo. Please send it again as a JPEG, PNG or WebP picture."
)
# Where visual search is not live for the shop's country: the photo waits for the shop's people.
PHOTO_KEPT = N_("Thanks for your photo! The shop will get back to you here shortly.")
