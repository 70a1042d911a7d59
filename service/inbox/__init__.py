"""The inbox: platform webhook events stored durably (encrypted) before they are acknowledged."""
