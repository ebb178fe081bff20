"""Record matching: linking CRM and store files with no shared key to known people
(Fellegi–Sunter with Splink), with a review queue for the doubtful pairs."""
