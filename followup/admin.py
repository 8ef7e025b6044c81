# Admin of Follow-up: where administrators configure what this department uses.
