//! Property tests of what arrives from outside: prediction bodies (API answers and webhook
//! bodies) and webhook headers. None panics; only a correctly signed, fresh body verifies.

use picture_domain::ports::ProviderState;
use picture_replicate::{Prediction, WebhookHeaders, WebhookVerifier};
use proptest::prelude::*;
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
        Just(json!("https://replicate.delivery/out.png")),
        Just(json!("data:image/png;base64,iVBORw0KGgo=")),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::hash_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

prop_compose! {
    fn prediction_like()(
        id in json_leaf(),
        status in prop_oneof![
            Just(json!("starting")), Just(json!("processing")), Just(json!("succeeded")),
            Just(json!("failed")), Just(json!("canceled")), json_leaf(),
        ],
        output in json_value(),
        error in json_leaf(),
        metrics in json_value(),
        logs in prop_oneof![
            json_leaf(),
            "([ \t\r\n]{0,2}[0-9]{0,11}%[ ]?\\|[█▌ |]{0,4}\\|[ ]?[0-9]{0,11}/[0-9]{0,11}[a-z ]{0,3}){0,4}"
                .prop_map(Value::from),
        ],
    ) -> Value {
        json!({"id": id, "status": status, "output": output, "error": error, "metrics": metrics,
               "logs": logs})
    }
}

proptest! {
    #[test]
    fn any_bytes_parse_or_are_refused(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(prediction) = Prediction::parse(&body) {
            let _ = prediction.prediction_id();
            let _ = prediction.state();
        }
    }

    #[test]
    fn prediction_shaped_bodies_give_a_state_without_panicking(body in prediction_like()) {
        if let Ok(prediction) = Prediction::parse(body.to_string().as_bytes()) {
            let _ = prediction.prediction_id();
            if let ProviderState::Processing { progress: Some(progress) } = prediction.state() {
                prop_assert!(progress.total() > 0 && progress.done() <= progress.total());
            }
        }
    }

    #[test]
    fn arbitrary_webhook_headers_never_verify(
        id in any::<String>(),
        timestamp in any::<String>(),
        signature in any::<String>(),
        body in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let verifier = WebhookVerifier::new(SECRET).unwrap();
        let headers = WebhookHeaders { id: &id, timestamp: &timestamp, signature: &signature };
        prop_assert!(verifier.verify(&headers, &body, 1_700_000_000).is_err());
    }

    #[test]
    fn a_signed_body_verifies_and_any_change_breaks_it(
        body in prop::collection::vec(any::<u8>(), 1..128),
        flip in any::<prop::sample::Index>(),
    ) {
        let verifier = WebhookVerifier::new(SECRET).unwrap();
        let now = 1_700_000_000;
        let signature = verifier.sign("msg_1", now, &body);
        let timestamp = now.to_string();
        let headers = WebhookHeaders { id: "msg_1", timestamp: &timestamp, signature: &signature };
        prop_assert!(verifier.verify(&headers, &body, now).is_ok());
        let mut tampered = body.clone();
        let i = flip.index(tampered.len());
        tampered[i] ^= 0x01;
        prop_assert!(verifier.verify(&headers, &tampered, now).is_err());
    }
}
