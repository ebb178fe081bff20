"""Personal data removed from conversation texts before they are stored (voice of the customer).

Call transcripts, chat logs, reviews and survey comments are the customer's own words; they
carry card numbers read aloud, IBANs, social-security numbers, phone numbers, e-mail and postal
addresses and names. Every such text is redacted here, at ingestion, before it is written
anywhere: each span found is replaced by a typed placeholder (`PLACEHOLDERS`).

This package is the contract the collector, the importers and the analyses code against:
`redact_text` for one text, `redact_many` for a batch (same results, cheaper), `redact_turns`
for a conversation (a card read over several turns is found), `detect_language`, `warm`.

How (docs/redaction.md has the method and the measured recall and precision):

- engine.py: Presidio's AnalyzerEngine over spaCy's French and English models (only their
  named-entity recogniser runs), for names, with this package's token scans registered in it;
- tokens.py: words with offsets and numbers said in words, in one linear pass;
- numbers.py: cards (Luhn) and CVVs, NIRs (key), phone numbers, written or said, over turns;
- iban.py (mod 97), contact.py (e-mails written or said), address.py, names.py (cues, spelt);
- language.py: lingua, French or English;
- redact.py: the spans merged and replaced.

Every step is linear in its input and bounded (the write key is public: a text may be 32 KB
built to hurt): no pattern here can backtrack, and every look-around reads a bounded number of
tokens.
"""

from __future__ import annotations

from empreinte.privacy.text_pii.language import detect_language
from empreinte.privacy.text_pii.model import LANGUAGES, PLACEHOLDERS, Found, Redacted
from empreinte.privacy.text_pii.redact import redact_many, redact_text, redact_turns, warm

__all__ = [
    "LANGUAGES",
    "PLACEHOLDERS",
    "Found",
    "Redacted",
    "detect_language",
    "redact_many",
    "redact_text",
    "redact_turns",
    "warm",
]
