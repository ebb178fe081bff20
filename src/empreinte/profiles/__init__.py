"""Profiles: one per person of the identity graph — traits, computed traits, customer 360."""

from empreinte.profiles.lookup import InvalidInput
from empreinte.profiles.profile import Profile, Profiles, TimelinePage

__all__ = ["InvalidInput", "Profile", "Profiles", "TimelinePage"]
