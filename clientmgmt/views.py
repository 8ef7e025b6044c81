# Views of Client management: decorators, an access-checked fetch, a form, one service call.
