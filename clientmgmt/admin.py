# Admin of Client management: where administrators configure what this department uses.
