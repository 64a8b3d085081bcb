"""The operations checklists at the I/O edge: definitions loaded from files, facts
gathered for the automatic items, runs kept in state.db (the logic is
`rules.checklists`)."""
