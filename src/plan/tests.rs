use super::*;
use crate::model::Resource;
use std::path::PathBuf;

fn fixture() -> (PathBuf, Model) {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = base.join("fixtures/plan/plan.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let shown = crate::input::display_path(&path, &base);
    let model = load_file(&path, &shown, &text, &base);
    (base, model)
}

fn find<'m>(model: &'m Model, address: &str) -> &'m Resource {
    model
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("no {address} in {:?}", model.resources.iter().map(|r| &r.address).collect::<Vec<_>>()))
}

#[test]
fn addresses_types_and_data_sources() {
    let (_, model) = fixture();
    assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    assert_eq!(model.files_scanned, 1);
    let mut addresses: Vec<&str> = model.resources.iter().map(|r| r.address.as_str()).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        vec![
            "aws_kms_key.lake",
            "aws_s3_bucket.bronze",
            "aws_s3_bucket_object_lock_configuration.bronze",
            "aws_s3_bucket_server_side_encryption_configuration.bronze",
            "aws_sqs_queue.q",
            "module.logs.aws_s3_bucket.logs",
            "module.logs.aws_s3_bucket_server_side_encryption_configuration.logs",
            "provider.aws",
        ]
    );
    assert_eq!(find(&model, "module.logs.aws_s3_bucket.logs").rtype, "aws_s3_bucket");
}

#[test]
fn after_apply_values_are_references_or_unknown() {
    let (_, model) = fixture();
    let bronze = find(&model, "aws_s3_bucket.bronze");
    let key = bronze.attrs.path("server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.kms_master_key_id").unwrap();
    assert_eq!(key.value, Value::Ref { address: "aws_kms_key.lake".into(), attribute: "arn".into() });
    let queue_key = &find(&model, "aws_sqs_queue.q").attrs.get("kms_master_key_id").unwrap().value;
    assert!(matches!(queue_key, Value::Unknown(r) if r.starts_with(AFTER_APPLY) && r.contains("module.logs.key_id")), "{queue_key:?}");
    // Known values stay known; unwritten computed attributes are left out, as in HCL.
    assert_eq!(bronze.attrs.get("object_lock_enabled").unwrap().value, Value::Bool(true));
    assert!(bronze.attrs.get("arn").is_none() && bronze.attrs.get("region").is_none());
    // No default tags on the provider: tags_all is the (empty) tags.
    assert_eq!(bronze.attrs.get("tags_all").unwrap().value, Value::Map(Vec::new()));
}

#[test]
fn split_settings_join_and_keep_tf_lines() {
    let (_, model) = fixture();
    let bronze = find(&model, "aws_s3_bucket.bronze");
    assert_eq!(&*bronze.span.file, "fixtures/plan/main.tf");
    assert_eq!(bronze.span.start_line, 13);
    let mode = bronze.attrs.path("object_lock_configuration.rule.default_retention.mode").unwrap();
    assert_eq!(mode.value, Value::Str("GOVERNANCE".into()));
    assert_eq!(mode.span.as_ref().map(|s| (&*s.file, s.start_line)), Some(("fixtures/plan/main.tf", 32)));
    let logs = find(&model, "module.logs.aws_s3_bucket.logs");
    let algorithm = logs.attrs.path("server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.sse_algorithm").unwrap();
    assert_eq!(algorithm.span.as_ref().map(|s| (&*s.file, s.start_line)), Some(("fixtures/plan/modules/logs/main.tf", 9)));
    assert_eq!(logs.call_chain.len(), 1);
    assert_eq!((&*logs.call_chain[0].file, logs.call_chain[0].start_line), ("fixtures/plan/main.tf", 45));
}

#[test]
fn providers_take_the_plans_variable_values() {
    let (_, model) = fixture();
    let provider = find(&model, "provider.aws");
    let region = provider.attrs.get("region").unwrap();
    assert_eq!(region.value, Value::Str("us-east-1".into()));
    assert_eq!(region.span.as_ref().unwrap().start_line, 5);
}

fn load_text(text: &str) -> Model {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    load_file(&path, &"plan.json".into(), text, dir.path())
}

#[test]
fn each_key_references_resolve_to_the_same_instance() {
    let plan = r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":[
      {"address":"aws_kms_key.k[\"a\"]","mode":"managed","type":"aws_kms_key","name":"k","index":"a","values":{}},
      {"address":"aws_kms_key.k[\"b\"]","mode":"managed","type":"aws_kms_key","name":"k","index":"b","values":{}},
      {"address":"aws_sqs_queue.q[\"a\"]","mode":"managed","type":"aws_sqs_queue","name":"q","index":"a","values":{"name":"a"}},
      {"address":"aws_sqs_queue.q[\"c\"]","mode":"managed","type":"aws_sqs_queue","name":"q","index":"c","values":{"name":"c"}}]}},
    "resource_changes":[
      {"address":"aws_sqs_queue.q[\"a\"]","change":{"after_unknown":{"kms_master_key_id":true}}},
      {"address":"aws_sqs_queue.q[\"c\"]","change":{"after_unknown":{"kms_master_key_id":true}}}],
    "configuration":{"root_module":{"resources":[{"address":"aws_sqs_queue.q","mode":"managed","type":"aws_sqs_queue","name":"q",
      "expressions":{"kms_master_key_id":{"references":["aws_kms_key.k","each.key"]}}}]}}}"#;
    let model = load_text(plan);
    assert!(model.diagnostics.is_empty());
    let a = &find(&model, "aws_sqs_queue.q[\"a\"]").attrs.get("kms_master_key_id").unwrap().value;
    assert_eq!(a, &Value::Ref { address: "aws_kms_key.k[\"a\"]".into(), attribute: String::new() });
    // No instance "c" of the key: never guessed.
    assert!(find(&model, "aws_sqs_queue.q[\"c\"]").attrs.get("kms_master_key_id").unwrap().is_unknown());
    // No .tf beside the plan: the plan file's line of the address.
    assert_eq!(&*find(&model, "aws_sqs_queue.q[\"a\"]").span.file, "plan.json");
}

#[test]
fn plans_without_configuration_keep_every_unknown() {
    let plan = r#"{"format_version":"0.1","planned_values":{"root_module":{"resources":[
      {"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b","values":{"bucket":"x"}}]}},
    "resource_changes":[{"address":"aws_s3_bucket.b","change":{"after_unknown":{"server_side_encryption_configuration":true}}}]}"#;
    let model = load_text(plan);
    let bucket = find(&model, "aws_s3_bucket.b");
    assert!(bucket.attrs.get("server_side_encryption_configuration").unwrap().is_unknown());
    assert_eq!(bucket.span.start_line, 2);
}

#[test]
fn broken_json_is_an_error_with_a_position() {
    let model = load_text("{\"format_version\": \"1.2\",\n \"planned_values\": [}");
    assert_eq!(model.diagnostics.len(), 1);
    assert_eq!(model.diagnostics[0].span.as_ref().unwrap().start_line, 2);
}

#[test]
fn a_large_minified_plan_loads_fast() {
    let resource = r#"{"address":"aws_sqs_queue.q[N]","mode":"managed","type":"aws_sqs_queue","name":"q","index":N,"values":{"name":"queue-N","tags":{"a":"b"},"policy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}}"#;
    let resources: Vec<String> = (0..10_000).map(|i| resource.replace('N', &i.to_string())).collect();
    let plan = format!(r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[{}]}}}}}}"#, resources.join(","));
    assert!(plan.len() > 2_000_000 && !plan.contains('\n'));
    let started = std::time::Instant::now();
    let model = load_text(&plan);
    assert_eq!(model.resources.len(), 10_000);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_plan_is_of_the_environment_that_names_it_or_holds_it() {
    let (base, mut model) = fixture();
    let plan = std::fs::canonicalize(base.join("fixtures/plan/plan.json")).unwrap();
    let dir = plan.parent().unwrap().to_path_buf();
    let environment = |name: &str, roots: Vec<PathBuf>| EnvironmentRoots { name: name.into(), roots, var_files: Vec::new() };
    let environment_of = |model: &Model| model.resources[0].attrs.get(crate::model::ENVIRONMENT_KEY).and_then(Node::as_str).map(str::to_string);

    // The root module holds it, but staging names the plan file itself.
    name_environment(&mut model, &plan, "plan.json", &[environment("production", vec![dir.clone()]), environment("staging", vec![plan.clone()])]);
    assert_eq!(environment_of(&model).as_deref(), Some("staging"));
    assert_eq!(model.resources[0].render.as_deref(), Some("environment staging"));

    // A root module two environments share: which one the plan is of is not known.
    let (_, mut model) = fixture();
    name_environment(&mut model, &plan, "plan.json", &[environment("production", vec![dir.clone()]), environment("staging", vec![dir])]);
    assert_eq!(environment_of(&model), None);
    assert!(model.diagnostics.iter().any(|d| d.message.contains("environments production and staging")), "{:?}", model.diagnostics);
}
