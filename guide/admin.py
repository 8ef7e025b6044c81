# Admin of Front desk: where administrators configure what this department uses.
