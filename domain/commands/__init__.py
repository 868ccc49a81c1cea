"""The Ledger's commands, one module per area; `domain.ledger.Ledger` combines them."""
