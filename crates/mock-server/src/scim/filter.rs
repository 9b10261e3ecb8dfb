//! The RFC 7644 section 3.4.2.2 filter grammar: parser and evaluator.
