//! The diesel schema, identical for both backends (see the migrations).

diesel::table! {
    models (id) {
        id -> Text,
        name -> Text,
        display_name -> Text,
        description -> Nullable<Text>,
        replicate_id -> Text,
        version -> Nullable<Text>,
        default_width -> Integer,
        default_height -> Integer,
        default_steps -> Integer,
        default_guidance_scale -> Double,
        min_width -> Integer,
        min_height -> Integer,
        max_width -> Integer,
        max_height -> Integer,
        max_steps -> Integer,
        supports_negative_prompt -> Bool,
        supports_img2img -> Bool,
        supports_seed -> Bool,
        is_active -> Bool,
        is_default -> Bool,
        sort_order -> Integer,
        cost_per_generation -> Nullable<Double>,
        estimated_time_seconds -> Nullable<Integer>,
        created_at -> BigInt,
        updated_at -> BigInt,
        provider -> Text,
    }
}

diesel::table! {
    profiles (id) {
        id -> Text,
        username -> Nullable<Text>,
        email -> Text,
        avatar_url -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        username_key -> Nullable<Text>,
    }
}

diesel::table! {
    image_generations (id) {
        id -> Text,
        user_id -> Text,
        model_id -> Nullable<Text>,
        batch_id -> Nullable<Text>,
        prompt -> Text,
        negative_prompt -> Nullable<Text>,
        model -> Nullable<Text>,
        style -> Nullable<Text>,
        source_image_url -> Nullable<Text>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        steps -> Nullable<Integer>,
        guidance_scale -> Nullable<Double>,
        seed -> Nullable<BigInt>,
        generation_strength -> Nullable<Double>,
        status -> Text,
        replicate_prediction_id -> Nullable<Text>,
        error_message -> Nullable<Text>,
        generation_time_seconds -> Nullable<Integer>,
        retry_count -> Integer,
        priority -> Integer,
        billing -> Text,
        credits_used -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        finalize_lease_until -> Nullable<BigInt>,
        ledger -> Text,
        provider_checked_at -> Nullable<BigInt>,
        finalize_lease_owner -> Nullable<Text>,
        reconcile_until -> Nullable<BigInt>,
        provider -> Text,
    }
}

diesel::table! {
    /// The batch queue's claim columns of `image_generations` (diesel's tables stop at 32
    /// columns): the same rows, seen through the columns a claim reads and writes.
    #[sql_name = "image_generations"]
    generation_claims (id) {
        id -> Text,
        status -> Text,
        claim_owner -> Nullable<Text>,
        claimed_at -> Nullable<BigInt>,
        claim_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    batch_generations (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        model_id -> Nullable<Text>,
        model_version -> Nullable<Text>,
        width -> Integer,
        height -> Integer,
        steps -> Integer,
        guidance_scale -> Double,
        created_at -> BigInt,
    }
}

diesel::table! {
    images (id) {
        id -> Text,
        user_id -> Text,
        generation_id -> Nullable<Text>,
        source_image_id -> Nullable<Text>,
        prompt -> Text,
        negative_prompt -> Nullable<Text>,
        model -> Nullable<Text>,
        style -> Nullable<Text>,
        public_url -> Nullable<Text>,
        storage_path -> Text,
        filename -> Text,
        format -> Nullable<Text>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        file_size -> Nullable<BigInt>,
        blurhash -> Nullable<Text>,
        is_public -> Bool,
        is_favorite -> Bool,
        download_count -> Integer,
        rating -> Nullable<Integer>,
        archived_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        like_count -> BigInt,
    }
}

diesel::table! {
    credit_accounts (user_id) {
        user_id -> Text,
        balance -> BigInt,
        held -> BigInt,
        total_earned -> BigInt,
        total_spent -> BigInt,
        free_generations_used -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    credit_entries (id) {
        id -> Text,
        user_id -> Text,
        generation_id -> Nullable<Text>,
        kind -> Text,
        amount -> BigInt,
        reason -> Nullable<Text>,
        idempotency_key -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(image_generations -> models (model_id));
diesel::allow_tables_to_appear_in_same_query!(
    batch_generations,
    models,
    image_generations,
    images,
    profiles,
    credit_accounts,
    credit_entries,
);

diesel::table! {
    image_likes (id) {
        id -> Text,
        image_id -> Text,
        user_id -> Text,
        created_at -> BigInt,
        image_created_at -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        generation_id -> Text,
        created_at -> BigInt,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Binary>,
    }
}

diesel::joinable!(image_likes -> images (image_id));
diesel::allow_tables_to_appear_in_same_query!(images, image_likes);

diesel::table! {
    remote_charges (generation_id) {
        generation_id -> Text,
        user_id -> Text,
        amount -> BigInt,
        state -> Text,
        reason -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (webhook_id) {
        webhook_id -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    rate_limit_scopes (scope) {
        scope -> Text,
        attempts -> BigInt,
    }
}

diesel::table! {
    rate_limit_events (scope, attempt) {
        scope -> Text,
        attempt -> BigInt,
        at -> BigInt,
    }
}

diesel::table! {
    tags (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        name_key -> Text,
        color -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    image_tags (image_id, tag_id) {
        image_id -> Text,
        tag_id -> Text,
    }
}

diesel::joinable!(image_tags -> images (image_id));
diesel::joinable!(image_tags -> tags (tag_id));
diesel::allow_tables_to_appear_in_same_query!(images, image_tags, tags);

diesel::table! {
    boards (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        thumbnail_url -> Nullable<Text>,
        thumbnail_key -> Nullable<Text>,
        canvas_width -> Integer,
        canvas_height -> Integer,
        background_color -> Text,
        is_public -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        thumbnail_blurhash -> Nullable<Text>,
    }
}

diesel::table! {
    board_items (id) {
        id -> Text,
        board_id -> Text,
        image_id -> Nullable<Text>,
        item_type -> Text,
        position_x -> Double,
        position_y -> Double,
        scale_x -> Double,
        scale_y -> Double,
        rotation -> Double,
        z_index -> Integer,
        opacity -> Double,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        text_content -> Nullable<Text>,
        font_size -> Nullable<Integer>,
        color -> Nullable<Text>,
        properties -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::joinable!(board_items -> boards (board_id));
diesel::joinable!(board_items -> images (image_id));
diesel::allow_tables_to_appear_in_same_query!(boards, board_items, images);

diesel::table! {
    /// The event log of live progress (issue 20): written by triggers; `seq` is the SSE id.
    live_events (id) {
        id -> BigInt,
        seq -> Nullable<BigInt>,
        user_id -> Text,
        kind -> Text,
        generation_id -> Nullable<Text>,
        batch_id -> Nullable<Text>,
        status -> Nullable<Text>,
        progress -> Nullable<Double>,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// The open event streams of every instance (the per-user cap).
    live_streams (id) {
        id -> BigInt,
        user_id -> Text,
        instance_id -> Text,
        opened_at -> BigInt,
    }
}

diesel::table! {
    /// The instances holding streams, and until when they count as alive.
    live_instances (instance_id) {
        instance_id -> Text,
        alive_until -> BigInt,
    }
}

diesel::table! {
    /// Secrets shared by the instances.
    server_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    /// Named, expiring leases shared by the instances (one render of a variant at a time).
    render_leases (name) {
        name -> Text,
        holder -> Text,
        until_ms -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(image_generations, live_events);
diesel::allow_tables_to_appear_in_same_query!(live_streams, live_instances);
