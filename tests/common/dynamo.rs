//! The state table on moto's DynamoDB, created as `template.yaml`'s `StateTable` defines it (key
//! schema, attribute types, TTL attribute read from the template and checked against the code).
#![allow(dead_code)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};

/// The StateTable resource of template.yaml, as text (its key schema and TTL are read from it).
fn template_table() -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml");
    let start = text
        .find("\n  StateTable:\n")
        .expect("StateTable in template.yaml");
    // Up to the next resource: a line indented by exactly two spaces.
    let mut block = String::new();
    for (i, line) in text[start + 1..].lines().enumerate() {
        let next_resource = line.starts_with("  ") && !line.starts_with("   ");
        if i > 0 && (next_resource || (!line.is_empty() && !line.starts_with(' '))) {
            break;
        }
        block.push_str(line);
        block.push('\n');
    }
    block
}

fn yaml_value<'t>(block: &'t str, after: &str, key: &str) -> &'t str {
    let from = block
        .find(after)
        .unwrap_or_else(|| panic!("{after} in StateTable"));
    let line = block[from..]
        .lines()
        .find_map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .strip_prefix(&format!("{key}: "))
        })
        .unwrap_or_else(|| panic!("{key} under {after}"));
    line.trim()
}

/// Creates the table from template.yaml's definition on moto; returns its name.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let block = template_table();
    assert!(block.contains("BillingMode: PAY_PER_REQUEST"), "{block}");
    let key = yaml_value(&block, "KeySchema:", "AttributeName");
    assert_eq!(yaml_value(&block, "KeySchema:", "KeyType"), "HASH");
    assert_eq!(
        yaml_value(&block, "AttributeDefinitions:", "AttributeName"),
        key
    );
    assert_eq!(
        yaml_value(&block, "AttributeDefinitions:", "AttributeType"),
        "S"
    );
    let ttl = yaml_value(&block, "TimeToLiveSpecification:", "AttributeName");
    assert_eq!(key, trailwatch::state::KEY, "template key = code key");
    assert_eq!(
        ttl,
        trailwatch::state::ATTR_EXPIRES,
        "template TTL = code TTL"
    );
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(ttl)
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable TTL");
}
