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

# --- The cart ---------------------------------------------------------------------------------------

BUTTON_ADD_TO_CART = N_("Add to cart")
# The section of an advice list whose rows put a product in the cart.
ADD_SECTION = N_("Add to cart")
ADD_ROW_DESCRIPTION = N_("Put one in your cart")
BUTTON_CHECKOUT = N_("Checkout")
BUTTON_VIEW_CART = N_("View cart")
BUTTON_EDIT_CART = N_("Edit cart")
BUTTON_KEEP_SHOPPING = N_("Keep shopping")
ADDED = N_("Added {quantity} \u00d7 {title} to your cart.")
ADDED_CAPPED = N_("One product can go in the cart at most {limit} times: you have {quantity} \u00d7 {title}.")
CART_HEADER = N_("Your cart:")
CART_LINE = N_("{quantity} \u00d7 {title}: {total}")
CART_LINE_GONE = N_("{quantity} \u00d7 {title}: no longer available")
CART_TOTAL = N_("Total: {total}")
CART_IS_EMPTY = N_(
    "Your cart is empty. Browse the catalog, or tell me what to add, like \u201c2 of the socks\u201d."
)
CART_EMPTIED = N_("Done, your cart is empty now.")
CART_FULL = N_("Your cart holds up to {limit} different products. Check out first, or take something out.")
ADD_WHAT = N_(
    "Which product should I add? Open one and tap \u201cAdd to cart\u201d, or write its name, "
    "like \u201c2 of the socks\u201d."
)
ADD_WHICH = N_("Which one do you mean? Tap it in the list.")
ADD_NOT_FOUND = N_(
    "I could not find \u201c{what}\u201d in our catalog. Try other words, or browse the catalog."
)
NOT_ORDERABLE = N_("Sorry, {title} cannot be ordered right now: {availability}.")
ONLY_LEFT = N_("Sorry, we have only {available} of {title} left.")
REMOVE_WHAT = N_("Which product should I take out? Tap it in the list.")
NOT_IN_CART = N_("\u201c{what}\u201d is not in your cart.")
REMOVED = N_("Took {title} out of your cart.")
REMOVED_SOME = N_("Took {quantity} \u00d7 {title} out; {left} still in your cart.")
EDIT_CART_BODY = N_("Tap a product to take it out of your cart.")
EDIT_CART_BUTTON = N_("Edit cart")
EDIT_CART_SECTION = N_("Your cart")
# TRANSLATORS: At most 72 characters (a list row's description).
REMOVE_ROW_DESCRIPTION = N_("Take it out of the cart")
# TRANSLATORS: At most 24 characters (a list row's title).
EMPTY_CART_ROW_TITLE = N_("Empty the cart")
EMPTY_CART_ROW_DESCRIPTION = N_("Take everything out")
ADD_WHICH_BUTTON = N_("Products")
ADD_WHICH_SECTION = N_("Did you mean")
REMINDER = N_("You left {count} items in your cart ({total}). Shall I place the order for you?")

# --- Placing an order -------------------------------------------------------------------------------

ORDER_PROBLEMS = N_("I could not place your order:")
PROBLEM_UNKNOWN = N_("{title}: not in our catalog")
PROBLEM_DISCONTINUED = N_("{title}: no longer sold")
PROBLEM_OUT_OF_STOCK = N_("{title}: out of stock")
PROBLEM_INSUFFICIENT = N_("{title}: only {available} left")
ORDER_PROBLEMS_OUTRO = N_("Please change your cart and order again, or talk to a person.")
ORDER_PLACED = N_("Thank you! Your order {number} is placed:")
PAY_ON_DELIVERY = N_("You pay {total} when it is delivered.")
PAY_AT_PICKUP = N_("You pay {total} when you pick it up at the shop.")
PAY_LINK = N_("Pay {total} with the button below to confirm it.")
PAY_IN_CHAT = N_("Tap \u201cReview and pay\u201d below to pay {total} here in WhatsApp.")
PAY_BY = N_("We hold it for you until {time}.")
BUTTON_PAY = N_("Pay now")
# TRANSLATORS: At most 60 characters (the header of WhatsApp's bill).
ORDER_DETAILS_BODY = N_("Your order {number} from {shop}")
# TRANSLATORS: At most 120 characters; shown when the time to pay is over.
PAYMENT_EXPIRED = N_("The time to pay for this order is over.")

# --- Following orders -------------------------------------------------------------------------------

ORDERS_NONE = N_("You have no orders with {shop} yet.")
ORDERS_HEADER = N_("Your latest orders:")
ORDER_STATUS_LINE = N_("{number} ({placed}): {total}, {status}")
ORDER_TRACKING = N_("Follow the parcel: {url}")
STATUS_PENDING_PAYMENT = N_("waiting for payment")
STATUS_PAID = N_("paid, being prepared")
STATUS_SHIPPED = N_("shipped")
STATUS_DELIVERED = N_("delivered")
STATUS_CANCELLED = N_("cancelled")
STATUS_REFUNDED = N_("refunded")
# TRANSLATORS: At most 20 characters once {number} (9 characters, like 7KQ2-MX4D) is filled in.
BUTTON_CANCEL_ORDER = N_("Cancel {number}")
BUTTON_KEEP_ORDER = N_("Keep it")
CANCEL_WHICH = N_("Which order should I cancel?")
CANCEL_NONE = N_("You have no order that can still be cancelled. Type \u201cmy order\u201d to see them.")
CANCEL_DONE = N_("Your order {number} is cancelled.")
CANCEL_TOO_LATE = N_(
    "Your order {number} is {status} and can no longer be cancelled. "
    "Type \u201ctalk to a person\u201d and the shop will help you."
)
CANCEL_KEPT = N_("All right, your order stays as it is.")
