# Views of Follow-up: decorators, an access-checked fetch, a form, one service call.
