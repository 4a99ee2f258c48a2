//! Parsing raw mail into `InboundEmail` (being written).
