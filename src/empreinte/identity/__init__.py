"""Identity: recognising one person behind many identifiers, without third-party cookies."""
