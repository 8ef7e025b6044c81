# Writes of Consultation desk: keyword-only functions, one transaction each, returning the model.
