# Admin of VIP: where administrators configure what this department uses.
