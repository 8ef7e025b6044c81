# Writes of VIP: keyword-only functions, one transaction each, returning the model.
