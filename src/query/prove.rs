//! Proof files: what must hold of some accounts, checked as one CI gate.
