//! Any text as a rule file: YAML, the rule schema and its CEL expressions, compiled.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = charterguard::rules::compile("rules/FUZ-001.yaml", text);
});
