# Models of Follow-up: care plans, return-visit calls, surveys and reminder scheduling (layer 3).
