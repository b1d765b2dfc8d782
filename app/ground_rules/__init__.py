"""The pair's co-written agreement: how they meet, what each wants, what stays between them."""
