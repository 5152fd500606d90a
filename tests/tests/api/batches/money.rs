//! A batch's money with credits enforced, on the offline renderer: decided for the whole batch
//! at creation — refused as a whole with nothing held, or every item paid (free slots first,
//! then 10 credits each) and charged once it completes.

use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};
use serde_json::json;

use super::{create, id_of, json_of, mobile_body, wait_until_final};

on_both_databases!(
    with super::enforced;
    a_batch_that_cannot_be_paid_in_full_is_402_and_holds_nothing_then_a_grant_pays_it,
);

fn enforced(raw: &mut RawSettings) {
    raw.set("CREDITS_ENFORCEMENT", "enforce");
}

/// `(balance, held, spent, free generations used)` of `user`.
async fn money(app: &TestApp, user: &str) -> (i64, i64, i64, u32) {
    let account = app.account(user).await;
    (
        account.credits.balance.get(),
        account.held.get(),
        account.credits.total_spent.get(),
        account.free_generations_used,
    )
}

async fn a_batch_that_cannot_be_paid_in_full_is_402_and_holds_nothing_then_a_grant_pays_it(
    app: TestApp,
) {
    let user = "saver";
    let token = app.token(user, None);
    let model = app.default_model_id().await;
    let body = mobile_body(&model, &["a", "b", "c", "d", "e", "f"], "six");
    for prefix in ["/api", "/api/v1"] {
        let response = app
            .send_json(
                reqwest::Method::POST,
                &format!("{prefix}/batch"),
                Some(&token),
                &body,
            )
            .await;
        let refused = json_of(response, 402).await;
        assert_eq!(refused["code"], "insufficient_credits", "{refused}");
        assert_eq!(refused["statusCode"], 402);
        assert_eq!(
            refused["details"],
            json!({"required": 30, "balance": 0, "freeGenerationsRemaining": 3, "items": 6})
        );
    }
    assert_eq!(money(&app, user).await, (0, 0, 0, 0), "nothing held");
    assert_eq!(
        json_of(app.get("/api/batch", Some(&token)).await, 200).await,
        json!([])
    );
    let history = json_of(app.get("/api/v1/generate/history", Some(&token)).await, 200).await;
    assert_eq!(history["total"], 0, "{history}");
    let balance = json_of(app.get("/api/v1/credits/balance", Some(&token)).await, 200).await;
    assert_eq!(balance["freeGenerationsRemaining"], 3, "{balance}");

    // 20 credits are not enough either: still the whole batch refused.
    assert_eq!(app.grant(user, 20, "first").await.status(), 201);
    let short = app
        .send_json(reqwest::Method::POST, "/api/batch", Some(&token), &body)
        .await;
    assert_eq!(
        json_of(short, 402).await["details"],
        json!({"required": 30, "balance": 20, "freeGenerationsRemaining": 3, "items": 6})
    );
    assert_eq!(money(&app, user).await, (20, 0, 0, 0));

    assert_eq!(app.grant(user, 10, "second").await.status(), 201);
    let batch = create(&app, &token, "/api", &body).await;
    let (balance, held, spent, free) = money(&app, user).await;
    assert_eq!(balance, 0, "every paid item's price is held at once");
    assert_eq!(held + spent, 30);
    assert_eq!(free, 3);
    let id = id_of(&batch);
    let done = wait_until_final(&app, &token, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["completedCount"], 6);
    assert_eq!(money(&app, user).await, (0, 0, 30, 3));
    let history = json_of(app.get("/api/v1/generate/history", Some(&token)).await, 200).await;
    assert_eq!(history["total"], 6, "{history}");
    // Nothing left for another paid item.
    let next = app
        .send_json(
            reqwest::Method::POST,
            "/api/batch",
            Some(&token),
            &mobile_body(&model, &["one more"], "one"),
        )
        .await;
    assert_eq!(
        json_of(next, 402).await["details"],
        json!({"required": 10, "balance": 0, "freeGenerationsRemaining": 0, "items": 1})
    );
}
