# Views of Consultation desk: decorators, an access-checked fetch, a form, one service call.
