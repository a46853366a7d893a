"""The customer's language from a message: right, or no answer, never another language.

The messages are what customers of a chat shop write: greetings, questions about products, sizes,
prices, delivery and orders, with and without accents, as typed on a phone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatshop.assistant.language import detect

LAYER = Path(__file__).resolve().parents[3] / "layers" / "core" / "python"

ENGLISH = [
    "do you have blue socks?",
    "hi",
    "hello",
    "Hello!",
    "good morning",
    "thanks",
    "thank you so much",
    "how much is this?",
    "how much are the running shoes",
    "what is the price of the red dress",
    "do you deliver to Brooklyn?",
    "I want to order the black backpack",
    "can I pay with card?",
    "is this available in size M?",
    "do you have it in a larger size",
    "when will my order arrive?",
    "I'd like to talk to someone",
    "can you show me some jackets under 50 dollars",
    "do you have any winter coats",
    "what colours does it come in?",
    "is shipping free?",
    "I need a gift for my mom",
    "show me the catalog please",
    "where is my package",
    "can I return it if it doesn't fit",
    "looking for a waterproof jacket",
    "do you sell kids shoes?",
    "that one looks nice, I'll take it",
    "what sizes do you have",
    "are these made of cotton?",
    "hey, are you open today?",
    "I want the second one",
    "any discounts right now?",
    "how long does delivery take",
    "my order never arrived",
    "do you have this in black?",
    "how much for two of them",
    "I'm looking for running shorts",
    "can you send me a picture of the back",
    "is the price negotiable?",
    "what's your return policy",
    "does it come with a warranty",
    "I would like to buy the green hoodie",
    "which one is cheaper",
    "do you ship internationally?",
    "can I pick it up at the store",
    "I need it by Friday",
    "is there a size chart",
    "the link is not working",
    "hey there, quick question",
    "good evening!",
    "thanks a lot",
    "what's the total with shipping?",
    "I already paid, can you check",
    "do you have anything for a baby girl",
    "how do I track my order",
    "show me more like this",
    "I want to cancel my order",
    "are you a real person?",
    "can I change the color after ordering",
    "do you take PayPal",
    "sorry, wrong number",
    "it's for my brother, he wears size 10",
]

SPANISH = [
    "¿tienen chaquetas?",
    "hola",
    "Hola!",
    "buenos días",
    "buenas tardes",
    "gracias",
    "muchas gracias",
    "¿cuánto cuesta?",
    "cuanto cuesta el vestido rojo",
    "¿tienen calcetines azules?",
    "quiero comprar unos tenis",
    "¿hacen envíos a Guadalajara?",
    "¿puedo pagar con tarjeta?",
    "¿lo tienen en talla mediana?",
    "busco una chamarra para el frío",
    "¿cuándo llega mi pedido?",
    "quiero hablar con una persona",
    "muéstrame el catálogo por favor",
    "¿qué colores tienen?",
    "¿el envío es gratis?",
    "necesito un regalo para mi mamá",
    "tienen zapatos para niños",
    "me gusta el segundo",
    "¿de qué material es?",
    "¿tienen descuentos?",
    "cuanto tarda el envio",
    "mi pedido no ha llegado",
    "quiero devolver un producto",
    "¿tienen mochilas negras?",
    "buenas noches, ¿siguen abiertos?",
    "me lo puedes apartar",
    "¿cuál es el precio de la playera blanca?",
    "qué tallas tienen",
    "quisiera ver los pantalones",
    "¿aceptan pagos en efectivo?",
    "tienen esta en negro?",
    "cuanto por dos",
    "ando buscando unos shorts para correr",
    "me puedes mandar una foto de atras",
    "el precio es negociable?",
    "cual es su politica de devoluciones",
    "trae garantia?",
    "quiero comprar la sudadera verde",
    "cual es mas barato",
    "hacen envios a todo el pais?",
    "puedo recogerlo en la tienda",
    "lo necesito para el viernes",
    "tienen tabla de tallas",
    "el link no funciona",
    "oye una pregunta",
    "buenas noches!",
    "mil gracias",
    "cuanto seria con el envio?",
    "ya pague, me confirmas porfa",
    "tienen algo para una bebe",
    "como rastreo mi pedido",
    "muestrame mas como este",
    "quiero cancelar mi pedido",
    "eres una persona real?",
    "se puede cambiar el color despues de pedir",
    "aceptan tarjeta de credito",
    "perdon, me equivoque de numero",
    "es para mi hermano, calza del 27",
]

PORTUGUESE = [
    "vocês têm meias azuis?",
    "olá",
    "oi",
    "Oi!",
    "bom dia",
    "boa tarde",
    "obrigado",
    "obrigada",
    "muito obrigado",
    "quanto custa?",
    "quanto custa o vestido vermelho",
    "vocês entregam em Curitiba?",
    "quero comprar um tênis",
    "posso pagar com cartão?",
    "tem no tamanho M?",
    "estou procurando uma jaqueta de couro",
    "quando chega meu pedido?",
    "quero falar com um atendente",
    "me mostra o catálogo por favor",
    "quais cores vocês têm?",
    "o frete é grátis?",
    "preciso de um presente para minha mãe",
    "vocês vendem sapatos infantis?",
    "gostei do segundo",
    "de que material é feito?",
    "tem desconto?",
    "quanto tempo demora a entrega",
    "meu pedido não chegou",
    "quero trocar um produto",
    "vocês têm mochilas pretas?",
    "boa noite, vocês estão abertos?",
    "qual é o preço da camiseta branca?",
    "quais tamanhos tem",
    "queria ver as calças",
    "aceitam pix?",
    "voces tem meias azuis",
    "tem essa na cor preta?",
    "quanto fica duas",
    "to procurando um short de corrida",
    "pode me mandar uma foto de tras",
    "o preço é negociável?",
    "qual a politica de troca de vocês",
    "vem com garantia?",
    "quero comprar o moletom verde",
    "qual é o mais barato",
    "vocês enviam para todo o Brasil?",
    "posso retirar na loja",
    "preciso até sexta",
    "tem tabela de medidas",
    "o link não está funcionando",
    "opa, uma dúvida",
    "boa noite!",
    "valeu mesmo",
    "quanto fica com o frete?",
    "já paguei, pode conferir",
    "tem alguma coisa pra bebê menina",
    "como eu rastreio meu pedido",
    "me mostra mais parecidos com esse",
    "quero cancelar meu pedido",
    "você é uma pessoa de verdade?",
    "dá pra trocar a cor depois de pedir",
    "aceita cartão de crédito",
    "desculpa, número errado",
    "é pro meu irmão, ele calça 42",
]

HINDI = [
    "क्या आपके पास जैकेट है?",
    "नमस्ते",
    "नमस्कार",
    "धन्यवाद",
    "शुक्रिया",
    "इसकी कीमत क्या है?",
    "लाल ड्रेस कितने की है",
    "क्या आपके पास नीले मोज़े हैं?",
    "मुझे जूते चाहिए",
    "क्या आप दिल्ली में डिलीवरी करते हैं?",
    "क्या मैं कार्ड से भुगतान कर सकता हूँ?",
    "क्या यह M साइज़ में है?",
    "मेरा ऑर्डर कब आएगा?",
    "मुझे किसी इंसान से बात करनी है",
    "कैटलॉग दिखाइए",
    "कौन से रंग हैं?",
    "क्या डिलीवरी मुफ्त है?",
    "मुझे माँ के लिए तोहफ़ा चाहिए",
    "बच्चों के जूते हैं क्या?",
    "दूसरा वाला पसंद आया",
    "यह किस कपड़े का बना है?",
    "कोई छूट है?",
    "मेरा ऑर्डर अभी तक नहीं आया",
    "मुझे सामान वापस करना है",
    "काले बैग हैं?",
    "शुभ संध्या, क्या दुकान खुली है?",
    "सफेद टी-शर्ट का दाम क्या है?",
    "कौन कौन से साइज़ हैं",
    "मुझे पैंट देखनी है",
    "क्या कैश ऑन डिलीवरी है?",
    "namaste",
    "क्या यह काले रंग में है?",
    "दो का कितना होगा",
    "मुझे दौड़ने के लिए शॉर्ट्स चाहिए",
    "पीछे की फोटो भेज सकते हैं?",
    "क्या दाम कम हो सकता है?",
    "वापसी की नीति क्या है",
    "गारंटी मिलती है?",
    "मुझे हरी हुडी खरीदनी है",
    "कौन सा सस्ता है",
    "क्या पूरे भारत में भेजते हैं?",
    "क्या मैं दुकान से ले सकता हूँ",
    "मुझे शुक्रवार तक चाहिए",
    "साइज़ चार्ट है क्या",
    "लिंक काम नहीं कर रहा",
    "एक सवाल है",
    "शुभ रात्रि",
    "बहुत धन्यवाद",
    "डिलीवरी के साथ कुल कितना होगा?",
    "मैंने पैसे दे दिए, देख लीजिए",
    "छोटी बच्ची के लिए कुछ है?",
    "अपना ऑर्डर कैसे ट्रैक करूँ",
    "ऐसे और दिखाइए",
    "मुझे ऑर्डर रद्द करना है",
    "क्या आप असली इंसान हैं?",
    "ऑर्डर के बाद रंग बदल सकते हैं?",
    "क्या आप UPI लेते हैं",
    "माफ़ कीजिए, गलत नंबर",
    "मेरे भाई के लिए है, 9 नंबर",
]

# Hindi in Latin letters: never taken for English, Spanish or Portuguese (undecided, or Hindi).
ROMANISED_HINDI = [
    "kya aapke paas jacket hai?",
    "iska price kya hai",
    "mujhe joote chahiye",
    "mera order kab aayega",
    "bhaiya ye kitne ka hai",
    "kya delivery free hai",
    "dhanyavaad",
    "shukriya",
    "namaskar",
]

# Too short or too plain to tell a language by.
UNDECIDABLE = [
    "ok",
    "OK",
    "M",
    "42",
    "👍",
    "😀😀",
    "🙏",
    "?",
    "...",
    "",
    "   ",
    "XL",
    "no",
    "si",
    "sí",
    "menu",
    "pedido",
    "catálogo",
    "jacket",
    "Nike",
    "iPhone 15",
    "2",
    "ok!",
    "sim?",
    "jaja",
    "hmm",
    "kkk",
    "ahh",
    "https://example.com/p/123",
    "+55 11 91234-5678",
    "USD 20",
    "M/L",
    "ola",
    "taxi",
    "hotel",
    "chocolate",
]

# Languages the assistant does not speak: never taken for one it does.
NOT_SPOKEN = [
    "avez-vous des chaussettes bleues ?",
    "combien coûte cette robe",
    "bonjour, je voudrais commander",
    "avete giacche invernali?",
    "quanto costa questo vestito",
    "haben Sie blaue Socken?",
    "wie viel kostet das",
    "apakah ada jaket biru?",
    "есть ли у вас синие носки?",
    "你们有蓝色袜子吗？",
    "هل لديكم جوارب زرقاء؟",
    "mavi çorabınız var mı?",
]

LABELLED = {"en": ENGLISH, "es": SPANISH, "pt_BR": PORTUGUESE, "hi": HINDI}
CASES = [(language, text) for language, texts in LABELLED.items() for text in texts]


@pytest.mark.parametrize(("language", "text"), CASES)
def test_a_message_is_given_its_language_or_none(language, text):
    assert detect(text) in (language, None)


@pytest.mark.parametrize("language", list(LABELLED))
def test_messages_of_three_words_or_more_are_recognised(language):
    # Given the labelled messages of the language with three words or more
    sentences = [text for text in LABELLED[language] if len(text.split()) >= 3]

    # When each is detected
    missed = [text for text in sentences if detect(text) != language]

    # Then at least nine in ten get their language
    assert len(sentences) >= 25
    assert len(missed) * 10 <= len(sentences), missed


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hola", "es"),
        ("Hola!!", "es"),
        ("buenos días 👋", "es"),
        ("gracias", "es"),
        ("olá", "pt_BR"),
        ("oi", "pt_BR"),
        ("Obrigado!", "pt_BR"),
        ("hi", "en"),
        ("Hello", "en"),
        ("thank you", "en"),
        ("namaste", "hi"),
        ("नमस्ते", "hi"),
    ],
)
def test_a_greeting_alone_is_enough(text, language):
    assert detect(text) == language


@pytest.mark.parametrize("text", UNDECIDABLE)
def test_a_message_too_short_or_too_plain_tells_no_language(text):
    assert detect(text) is None


@pytest.mark.parametrize("text", NOT_SPOKEN)
def test_a_language_the_assistant_does_not_speak_is_not_taken_for_one(text):
    assert detect(text) is None


@pytest.mark.parametrize("text", ROMANISED_HINDI)
def test_hindi_in_latin_letters_is_not_taken_for_another_language(text):
    assert detect(text) in (None, "hi")


def test_devanagari_is_hindi_even_among_latin_words():
    assert detect("mujhe blue जैकेट chahiye") == "hi"


def test_english_next_to_spanish_tells_neither():
    assert detect("quiero the blue one please") is None


def test_importing_the_module_leaves_lingua_for_the_first_message_that_needs_it():
    # The inbound function imports it on its cold start; lingua's models are 100 MB.
    program = (
        "import json, sys; from chatshop.assistant.language import detect; before = 'lingua' in sys.modules; "
        "detect('hola'); after_table = 'lingua' in sys.modules; detect('do you have blue socks?'); "
        "print(json.dumps([before, after_table, 'lingua' in sys.modules]))"
    )
    environment = {**os.environ, "PYTHONPATH": str(LAYER)}

    result = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [False, False, True]
