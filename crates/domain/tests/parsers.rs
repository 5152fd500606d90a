//! Property tests of the domain's parsers at the edge: whatever the input, they answer with a
//! value or a validation error, never a panic, and every accepted value is within its bounds.

use picture_domain::ports::object_store::user_segment;
use picture_domain::{
    CreditAmount, GenerationId, GenerationRequest, ModelId, PredictionId, Prompt,
    RawGenerationRequest, SourceImageUrl, UserId,
};
use proptest::prelude::*;

fn number() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        any::<f64>().prop_map(Some),
        (-10_000i64..10_000).prop_map(|n| Some(n as f64)),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(0.0)),
    ]
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        any::<String>().prop_map(Some),
        "[a-z ]{0,40}".prop_map(Some),
        Just(Some("https://example.com/a.png".to_owned())),
        Just(Some("00000000-0000-4000-8000-000000000000".to_owned())),
    ]
}

prop_compose! {
    fn raw_request()(
        prompt in text(), model_id in text(), negative_prompt in text(),
        width in number(), height in number(), steps in number(),
        guidance_scale in number(), seed in number(), source_image_url in text(),
        generation_strength in number(), style in text(), model_version in text(),
        wait_for_result in any::<Option<bool>>(),
    ) -> RawGenerationRequest {
        RawGenerationRequest {
            prompt, model_id, negative_prompt, width, height, steps, guidance_scale, seed,
            source_image_url, generation_strength, style, model_version, wait_for_result,
        }
    }
}

proptest! {
    #[test]
    fn generation_requests_are_parsed_or_refused_with_messages(raw in raw_request()) {
        match GenerationRequest::parse(raw) {
            Ok(request) => {
                prop_assert!(request.width.is_none_or(|w| (256..=2048).contains(&w)));
                prop_assert!(request.height.is_none_or(|h| (256..=2048).contains(&h)));
                prop_assert!(request.steps.is_none_or(|s| (1..=150).contains(&s)));
                prop_assert!(request.guidance_scale.is_none_or(|g| (0.0..=30.0).contains(&g)));
                prop_assert!(request.generation_strength.is_none_or(|g| (0.0..=1.0).contains(&g)));
                prop_assert!(request.prompt.as_str().chars().count() <= 10_000);
            }
            Err(errors) => prop_assert!(!errors.messages().is_empty()),
        }
    }

    #[test]
    fn ids_parse_or_refuse(raw in any::<String>()) {
        if let Ok(user) = UserId::parse(raw.clone()) {
            prop_assert_eq!(user.as_str(), raw.as_str());
            prop_assert!(!raw.chars().any(|c| c.is_whitespace() || c.is_control()));
            // Whatever the id, its segment in object keys is one safe path segment.
            let segment = user_segment(&user);
            prop_assert!(!segment.is_empty() && segment.len() <= 65);
            prop_assert!(segment != "." && segment != "..");
            prop_assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b)));
        }
        let _ = raw.parse::<GenerationId>();
        let _ = raw.parse::<ModelId>();
        if let Ok(prediction) = PredictionId::parse(raw.clone()) {
            prop_assert!(prediction.as_str().len() <= 128);
        }
    }

    #[test]
    fn texts_and_urls_parse_or_refuse(raw in any::<String>()) {
        let _ = Prompt::parse(raw.clone());
        if let Ok(url) = SourceImageUrl::parse(raw.clone()) {
            prop_assert!(url.as_str().starts_with("https://"));
        }
    }

    #[test]
    fn credit_amounts_are_never_negative(value in any::<i64>(), other in any::<i64>()) {
        match (CreditAmount::new(value), CreditAmount::new(other)) {
            (Ok(a), Ok(b)) => {
                prop_assert!(a.checked_sub(b).is_none_or(|d| d.get() >= 0));
                let _ = a.checked_add(b);
            }
            (a, _) => prop_assert_eq!(a.is_err(), value < 0),
        }
    }
}
