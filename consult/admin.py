# Admin of Consultation desk: where administrators configure what this department uses.
