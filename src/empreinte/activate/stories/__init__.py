"""The year in review: each person's story of a year (products, categories, favourite channel,
busiest month, money saved, CO2 avoided by buying refurbished, beside the community's total
and their rank), in English or French, as a shareable page and a 1080×1920 PNG; people who
refused `personalisation` get none (docs/stories.md)."""
