"""The home page's cards, one per part of the portal: each part adds its function to CARDS
(a dict for its card's template, or None when it has nothing to say)."""

CARDS = []


def home_cards(patient) -> list[dict]:
    cards = []
    for card in CARDS:
        shown = card(patient)
        if shown:
            cards.append(shown)
    return cards
