"""The voice service's call receipts, pushed by Alibaba Cloud to
/voice/aliyun/receipt/<ALIYUN_VOICE_RECEIPT_SECRET>/ as a JSON array (VoiceReport): the same
checks as the SMS pushes (messaging.webhooks.aliyun_push: the secret address, the allowed
senders), then each receipt applied once (voice.receipts)."""

from messaging.webhooks import BadPush, aliyun_push

from . import receipts


def _receipt(request, items):
    try:
        receipts.receipts_take(items)
    except receipts.BadReceipt as exc:
        raise BadPush(str(exc)) from exc


aliyun_receipt = aliyun_push(_receipt, key_setting="ALIYUN_VOICE_RECEIPT_SECRET")
