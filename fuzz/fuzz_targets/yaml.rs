//! Any text as a Kubernetes manifest (YAML or JSON).
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = charterguard::kubernetes::load_file(&"fuzz.yaml".into(), text);
});
