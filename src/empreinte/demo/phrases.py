"""What agents and customers say on the demo's calls, in French and English.

Lines are grouped by the reason for calling (the voice of the customer's reasons: delivery,
refund, payment, product_question, complaint, account) and by the moment of the call. Slots
in braces are filled by demo/transcripts.py: `{agent}`, `{order}` (an order number read out),
`{product}`, `{days}`. The words are those a speech-to-text engine writes: no punctuation
beyond the sentence, numbers often in words.
"""

from __future__ import annotations

#: The reasons for calling the demo plants (the default reasons of the voice of the customer).
REASONS = ("delivery", "refund", "payment", "product_question", "complaint", "account")

Lines = dict[str, tuple[str, ...]]  # language → variants

GREETINGS: Lines = {
    "fr": (
        "Empreinte service client, {agent} à l'appareil, bonjour.",
        "Bonjour, service client Empreinte, je m'appelle {agent}, que puis-je faire pour vous ?",
        "Empreinte bonjour, {agent} à votre écoute.",
    ),
    "en": (
        "Thank you for calling Empreinte, this is {agent}, how can I help you today?",
        "Empreinte customer service, {agent} speaking, how may I help?",
        "Hi, you're through to Empreinte, my name is {agent}, what can I do for you?",
    ),
}

CHAT_GREETINGS: Lines = {
    "fr": (
        "Bonjour, je suis {agent} du service client Empreinte, comment puis-je vous aider ?",
        "Bonjour et bienvenue sur le chat Empreinte, {agent} à votre service.",
    ),
    "en": (
        "Hi, I'm {agent} from Empreinte customer service, how can I help?",
        "Hello and welcome to Empreinte chat, {agent} here.",
    ),
}

#: The customer's first words, by reason: the reason a classifier should find.
OPENINGS: dict[str, Lines] = {
    "delivery": {
        "fr": (
            "Bonjour, j'appelle parce que ma commande {order} n'est toujours pas arrivée.",
            "Oui bonjour, je n'ai pas reçu mon colis, le suivi ne bouge plus depuis {days} jours.",
            "Bonjour, le livreur devait passer et je n'ai rien reçu, où est mon colis ?",
        ),
        "en": (
            "Hi, I'm calling because my order {order} still hasn't arrived.",
            "Hello, my package never showed up and the tracking hasn't moved in {days} days.",
            "Yes hi, the delivery was supposed to come and I got nothing, where is my parcel?",
        ),
    },
    "refund": {
        "fr": (
            "Bonjour, j'ai renvoyé un article il y a {days} jours et je n'ai pas été remboursé.",
            "Bonjour, je voudrais savoir où en est le remboursement de mon retour.",
            "Oui bonjour, j'ai retourné le {product} et j'attends toujours mon remboursement.",
        ),
        "en": (
            "Hi, I sent an item back {days} days ago and I still haven't been refunded.",
            "Hello, I'd like to know where my refund is for the return I made.",
            "Yes hi, I returned the {product} and I'm still waiting for my money back.",
        ),
    },
    "payment": {
        "fr": (
            "Bonjour, j'essaie de payer sur le site et ma carte est refusée.",
            "Bonjour, le paiement ne passe pas, j'ai eu un message d'erreur au moment de payer.",
            "Oui bonjour, j'ai été débité mais la commande n'apparaît pas, le paiement a bloqué.",
        ),
        "en": (
            "Hi, I'm trying to pay on the website and my card keeps getting declined.",
            "Hello, the payment won't go through, I got an error message at checkout.",
            "Yes hi, I was charged but the order doesn't show up, the payment got stuck.",
        ),
    },
    "product_question": {
        "fr": (
            "Bonjour, j'ai une question sur le {product}, est-ce qu'il est compatible avec mon "
            "chargeur ?",
            "Bonjour, je voudrais savoir quelle est la garantie sur le {product} reconditionné.",
            "Oui bonjour, est-ce que le {product} existe dans une autre couleur ?",
        ),
        "en": (
            "Hi, I have a question about the {product}, does it work with my charger?",
            "Hello, I'd like to know what warranty comes with the refurbished {product}.",
            "Yes hi, does the {product} come in another colour?",
        ),
    },
    "complaint": {
        "fr": (
            "C'est la deuxième fois que j'appelle et personne n'a réglé mon problème.",
            "Écoutez je rappelle encore, on m'avait promis un rappel et rien, c'est inadmissible.",
            "Bonjour, je veux faire une réclamation, j'ai déjà appelé et ce n'est toujours pas "
            "résolu.",
        ),
        "en": (
            "This is the second time I'm calling and nobody has fixed my problem.",
            "Look, I'm calling again, I was promised a call back and nothing, this is "
            "unacceptable.",
            "Hi, I want to make a complaint, I already called and it's still not sorted out.",
        ),
    },
    "account": {
        "fr": (
            "Bonjour, je n'arrive plus à me connecter à mon compte.",
            "Bonjour, mes points de fidélité n'apparaissent pas sur mon compte.",
            "Oui bonjour, je voudrais changer l'adresse mail de mon compte.",
        ),
        "en": (
            "Hi, I can't log in to my account anymore.",
            "Hello, my loyalty points aren't showing on my account.",
            "Yes hi, I'd like to change the email address on my account.",
        ),
    },
}

ASK_IDENTITY: Lines = {
    "fr": (
        "Je vais regarder ça, puis-je avoir votre nom s'il vous plaît ?",
        "D'accord, c'est à quel nom ?",
    ),
    "en": ("Let me look into that, can I have your name please?", "Sure, what name is it under?"),
}
#: The customer says their name (a <PERSON> for redaction).
GIVE_NAME: Lines = {
    "fr": ("Oui c'est {first} {last}.", "{first} {last}.", "Alors c'est {last}, {first} {last}."),
    "en": ("Yes it's {first} {last}.", "{first} {last}.", "Sure, {first} {last}."),
}
ASK_EMAIL: Lines = {
    "fr": ("Et l'adresse mail du compte ?",),
    "en": ("And the email address on the account?",),
}
GIVE: Lines = {
    "fr": ("Oui c'est", "Alors c'est", "C'est"),
    "en": ("Yes it's", "Sure, it's", "It's"),
}
ASK_CARD: Lines = {
    "fr": ("Je peux prendre le paiement par téléphone, vous avez votre carte ?",),
    "en": ("I can take the payment over the phone, do you have your card?",),
}
CARD_LEAD: Lines = {
    "fr": ("Oui alors c'est", "Oui, le numéro c'est", "Attendez, voilà"),
    "en": ("Yes so it's", "Okay the number is", "Hang on, here it is"),
}
CARD_MIDDLE: Lines = {
    "fr": ("Oui.", "Je note.", "Oui, allez-y."),
    "en": ("Yes.", "Okay.", "Go on."),
}
ASK_IBAN: Lines = {
    "fr": ("Pour le remboursement par virement il me faut votre IBAN.",),
    "en": ("For a refund by bank transfer I'll need your IBAN.",),
}
IBAN_LEAD: Lines = {"fr": ("Mon IBAN c'est", "Alors l'IBAN"), "en": ("My IBAN is",)}
PHONE_LEAD: Lines = {
    "fr": ("Vous pouvez me rappeler au", "Mon numéro c'est le"),
    "en": ("You can call me back on", "My number is"),
}
ADDRESS_LEAD: Lines = {"fr": ("J'habite au", "L'adresse c'est"), "en": ("I live at", "It's")}
STREETS: Lines = {
    "fr": ("rue des Lilas", "avenue Jean Jaurès", "boulevard Voltaire", "rue de la République"),
    "en": ("Maple Street", "Oak Avenue", "Main Street", "Elm Drive"),
}
HOLD: Lines = {
    "fr": ("Je vérifie, je vous mets un instant en attente.", "Un instant, je regarde."),
    "en": ("Let me check, I'll put you on hold for a moment.", "One moment, let me look."),
}
BACK: Lines = {"fr": ("Merci de votre patience.",), "en": ("Thanks for holding.",)}

#: What the agent finds and does, by reason, when the call is resolved or not.
ANSWERS: dict[str, dict[str, Lines]] = {
    "delivery": {
        "resolved": {
            "fr": ("Votre colis est au dépôt, il sera livré demain, je vous envoie le suivi.",),
            "en": (
                "Your parcel is at the depot, it will be delivered tomorrow, I'll text you the "
                "tracking.",
            ),
        },
        "unresolved": {
            "fr": (
                "Le transporteur ne répond pas, je dois ouvrir une enquête, comptez quelques "
                "jours.",
            ),
            "en": (
                "The carrier isn't responding, I have to open an investigation, give it a few "
                "days.",
            ),
        },
    },
    "refund": {
        "resolved": {
            "fr": ("Le retour est bien reçu, le remboursement part aujourd'hui sur votre compte.",),
            "en": ("We received the return, the refund goes out today to your account.",),
        },
        "unresolved": {
            "fr": (
                "Je ne vois pas encore le retour dans l'entrepôt, il faut attendre la réception.",
            ),
            "en": (
                "I can't see the return at the warehouse yet, we have to wait until it's checked "
                "in.",
            ),
        },
    },
    "payment": {
        "resolved": {
            "fr": (
                "C'est la vérification de la banque qui a bloqué, le paiement est passé, votre "
                "commande est validée.",
            ),
            "en": (
                "It was the bank's security check, the payment went through and your order is "
                "confirmed.",
            ),
        },
        "unresolved": {
            "fr": ("Le paiement est encore refusé, il faut contacter votre banque.",),
            "en": ("The payment is still being declined, you'll need to contact your bank.",),
        },
    },
    "product_question": {
        "resolved": {
            "fr": (
                "Oui il est compatible, et la garantie est de deux ans, c'est indiqué sur la "
                "fiche produit.",
            ),
            "en": (
                "Yes it's compatible, and the warranty is two years, it's on the product page.",
            ),
        },
        "unresolved": {
            "fr": ("Je n'ai pas l'information, je dois demander au service technique.",),
            "en": ("I don't have that information, I need to ask the technical team.",),
        },
    },
    "complaint": {
        "resolved": {
            "fr": (
                "Je suis vraiment désolé, je règle le problème maintenant et je vous offre un "
                "geste commercial.",
            ),
            "en": (
                "I'm really sorry, I'm fixing it right now and adding a goodwill credit to your "
                "account.",
            ),
        },
        "unresolved": {
            "fr": ("Je transmets votre réclamation au service concerné, ils vous recontacteront.",),
            "en": (
                "I'm passing your complaint on to the team in charge, they will get back to you.",
            ),
        },
    },
    "account": {
        "resolved": {
            "fr": (
                "Je vous ai envoyé un lien pour réinitialiser le mot de passe, et vos points sont "
                "crédités.",
            ),
            "en": ("I've sent you a link to reset your password, and your points are credited.",),
        },
        "unresolved": {
            "fr": (
                "Le compte est bloqué, je ne peux pas le débloquer d'ici, il faut une "
                "vérification.",
            ),
            "en": (
                "The account is locked and I can't unlock it from here, it needs a verification.",
            ),
        },
    },
}

#: The customer's last words: how they leave the call.
CLOSINGS: dict[str, Lines] = {
    "resolved": {
        "fr": (
            "Super, merci beaucoup, c'est parfait.",
            "Très bien, merci pour votre aide.",
            "Ah génial, merci, bonne journée.",
        ),
        "en": (
            "Great, thank you so much, that's perfect.",
            "Brilliant, thanks for your help.",
            "Oh that's great, thanks, have a good day.",
        ),
    },
    "unresolved": {
        "fr": (
            "Bon, c'est vraiment pénible, j'espère que ça va bouger.",
            "C'est inadmissible, je suis très déçu.",
            "Franchement je suis mécontent, ça fait trop longtemps.",
        ),
        "en": (
            "Well that's really annoying, I hope something happens.",
            "This is unacceptable, I'm very disappointed.",
            "Honestly I'm unhappy, this has taken far too long.",
        ),
    },
}
FAREWELLS: Lines = {
    "fr": ("Je vous en prie, bonne journée au revoir.", "Merci de votre appel, au revoir."),
    "en": ("You're welcome, have a nice day, bye.", "Thanks for calling, goodbye."),
}
FILLERS: Lines = {
    "fr": ("D'accord.", "Oui.", "Hum hum.", "Je vois."),
    "en": ("Okay.", "Right.", "Mm-hmm.", "I see."),
}

#: Digits as a speech-to-text engine writes them when a number is read out in words.
DIGIT_WORDS = {
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
#: How an e-mail address is spelled out loud.
AT_DOT = {"fr": ("arobase", "point"), "en": ("at", "dot")}

#: Reviews (`Review Submitted`): a rating 1–5 and the words that go with it.
REVIEWS: dict[str, Lines] = {
    "late": {
        "fr": (
            "Produit correct mais livré avec {days} jours de retard.",
            "Livraison très en retard, aucune information du transporteur.",
        ),
        "en": (
            "The product is fine but it came {days} days late.",
            "Delivery was very late and the carrier told me nothing.",
        ),
    },
    "returned": {
        "fr": (
            "Pas conforme à la description, je l'ai renvoyé.",
            "Déçu par la qualité, retour effectué.",
        ),
        "en": ("Not as described, I sent it back.", "Disappointed with the quality, returned it."),
    },
    "good": {
        "fr": (
            "Très bon produit, conforme à la description.",
            "Le {product} reconditionné est comme neuf, je recommande.",
            "Bon rapport qualité prix, livraison rapide.",
        ),
        "en": (
            "Great product, exactly as described.",
            "The refurbished {product} looks brand new, recommended.",
            "Good value for money and fast delivery.",
        ),
    },
    "average": {
        "fr": ("Correct sans plus.", "Fait le travail, emballage un peu léger."),
        "en": ("It's okay, nothing special.", "Does the job, packaging a bit flimsy."),
    },
}
