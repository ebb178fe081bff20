"""Voice of the customer: call transcripts and verbatims (chat logs, reviews, survey comments),
redacted at the door (privacy/text_pii/), understood here (language, sentiment, topics,
reasons for calling, quality of service) and linked to the journey before the call.

The service behind `workspace.voc`; see docs/voc.md.
"""
