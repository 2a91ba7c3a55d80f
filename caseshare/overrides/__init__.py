"""Break-glass overrides: the records, the domain rules and the incidents a review opens."""
