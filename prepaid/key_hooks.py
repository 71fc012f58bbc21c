"""Blind-index probes (cinrella.keycheck): does BLIND_INDEX_KEY reproduce the stored gift-card digests?"""


def newest_gift_card_code() -> bool | None:
    from prepaid.models import GiftCard
    from prepaid.services import code_digest

    card = GiftCard.objects.only("code", "code_bidx").order_by("-pk").first()
    if card is None:
        return None
    return code_digest(card.code) == card.code_bidx


BLIND_INDEX_PROBES = [("prepaid_giftcard.code_bidx", newest_gift_card_code)]
