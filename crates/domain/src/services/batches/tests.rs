//! Unit tests of the batch services (`tests/create.rs`, `tests/retry_and_cancel.rs`) and the
//! batch runner (`tests/runner.rs`) with mockall mocks of every port and the real generation
//! pipeline over them; the mocks and fixtures they share are here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::batch::{
    BatchCounts, BatchItem, BatchSummary, MAX_ITEM_RETRIES, RawBatchPrompt, RawBatchRequest,
};
use crate::generation::{Billing, Generation};
use crate::model::Model;
use crate::model::tests::sample_model;
use crate::money::Ledger;
use crate::ports::{
    CreditBalance, Funds, MockBackground, MockBatchQueue, MockBatchRepository, MockClock,
    MockCreditAccounts, MockCreditLedger, MockGenerationRepository, MockIdempotencyStore,
    MockImageProvider, MockImageRepository, MockModelCatalog, MockObjectStore, MockOutputFetcher,
    MockRateCounter, Transition,
};
use crate::services::credits::CreditPorts;
use crate::services::generations::{GenerationServices, PipelinePorts, PipelineSettings};
use crate::services::limits::{GenerationLimits, GenerationQuota};
use crate::{CreditAmount, Enforcement, FreemiumPolicy, PredictionId, ProviderName};

mod create;
mod retry_and_cancel;
mod runner;

/// A mock of every port the batch services, the runner and their pipeline use.
pub(super) struct Mocks {
    pub(super) batches: MockBatchRepository,
    pub(super) queue: MockBatchQueue,
    pub(super) models: MockModelCatalog,
    pub(super) generations: MockGenerationRepository,
    pub(super) provider: MockImageProvider,
    pub(super) accounts: MockCreditAccounts,
    pub(super) remote: Option<MockCreditLedger>,
    pub(super) counter: MockRateCounter,
    /// How often the service woke the workers.
    pub(super) woken: Arc<AtomicUsize>,
}

/// The time every clock of these tests tells.
pub(super) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

pub(super) fn user() -> UserId {
    UserId::parse("batcher").unwrap()
}

pub(super) fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

fn clock() -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    clock.expect_sleep().return_const(());
    Arc::new(clock)
}

/// The generation services over these mocks (3 free generations, then 10 credits, enforced).
struct Pipeline {
    services: GenerationServices,
    models: Arc<dyn ModelCatalog>,
    providers: Providers,
    clock: Arc<dyn Clock>,
}

impl Mocks {
    pub(super) fn new() -> Self {
        Self {
            batches: MockBatchRepository::new(),
            queue: MockBatchQueue::new(),
            models: MockModelCatalog::new(),
            generations: MockGenerationRepository::new(),
            provider: MockImageProvider::new(),
            accounts: MockCreditAccounts::new(),
            remote: None,
            counter: MockRateCounter::new(),
            woken: Arc::default(),
        }
    }

    /// The catalogue answers `model` for any id.
    pub(super) fn with_model(&mut self, model: &Model) {
        let model = model.clone();
        self.models
            .expect_get()
            .returning(move |_| Ok(Some(model.clone())));
    }

    fn pipeline(
        models: MockModelCatalog,
        generations: MockGenerationRepository,
        mut provider: MockImageProvider,
        accounts: MockCreditAccounts,
        remote: Option<MockCreditLedger>,
    ) -> Pipeline {
        let clock = clock();
        let generations: Arc<dyn crate::ports::GenerationRepository> = Arc::new(generations);
        let credits = CreditService::new(
            CreditPorts {
                accounts: Arc::new(accounts),
                remote: remote.map(|r| Arc::new(r) as Arc<dyn crate::ports::CreditLedger>),
                generations: generations.clone(),
                clock: Arc::clone(&clock),
            },
            FreemiumPolicy::new(3, credits(10), Enforcement::Enforce),
            false,
        );
        provider.expect_answers_in_submit().return_const(false);
        let providers = Providers::new().with(ProviderName::REPLICATE, Arc::new(provider));
        let models: Arc<dyn ModelCatalog> = Arc::new(models);
        let ports = PipelinePorts {
            models: Arc::clone(&models),
            generations,
            images: Arc::new(MockImageRepository::new()),
            providers: providers.clone(),
            fetcher: Arc::new(MockOutputFetcher::new()),
            store: Arc::new(MockObjectStore::new()),
            renderer: crate::services::fakes::placeholder_renderer(),
            clock: Arc::clone(&clock),
            idempotency: Arc::new(MockIdempotencyStore::new()),
            background: Arc::new(MockBackground::new()),
        };
        let settings = PipelineSettings {
            callbacks: None,
            sync_timeout: Duration::ZERO,
            poll_interval: Duration::ZERO,
            finalize_lease: Duration::from_secs(60),
            pending_timeout: Duration::from_secs(600),
            reconciler_interval: Duration::from_secs(30),
            idempotency_ttl: Duration::from_secs(86_400),
            provider_poll_min_interval: Duration::from_secs(2),
        };
        Pipeline {
            services: GenerationServices::new(ports, credits, settings),
            models,
            providers,
            clock,
        }
    }

    /// The batch services over these mocks.
    pub(super) fn service(self) -> BatchService {
        let pipeline = Self::pipeline(
            self.models,
            self.generations,
            self.provider,
            self.accounts,
            self.remote,
        );
        let woken = self.woken;
        BatchService::new(
            BatchPorts {
                batches: Arc::new(self.batches),
                models: pipeline.models,
                providers: pipeline.providers,
                clock: pipeline.clock,
            },
            pipeline.services.credits.clone(),
            pipeline.services.cancel.clone(),
            Arc::new(move || {
                woken.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    /// The batch runner over these mocks: 2 items per user, leases of 2 minutes, at most 30
    /// starts a minute.
    pub(super) fn runner(self) -> BatchRunner {
        let pipeline = Self::pipeline(
            self.models,
            self.generations,
            self.provider,
            self.accounts,
            self.remote,
        );
        let limits = GenerationLimits::new(
            Arc::new(self.counter),
            Arc::clone(&pipeline.clock),
            GenerationQuota {
                per_minute: 30,
                per_day: 0,
            },
        );
        BatchRunner::new(
            Arc::new(self.queue),
            pipeline.services.start,
            limits,
            pipeline.clock,
            RunnerSettings {
                per_user: 2,
                lease: Duration::from_secs(120),
            },
        )
    }
}

/// A batch request of `prompts` on `model`.
pub(super) fn request(model: &Model, prompts: &[&str]) -> BatchRequest {
    BatchRequest::parse(RawBatchRequest {
        prompts: Some(
            prompts
                .iter()
                .map(|text| RawBatchPrompt {
                    text: Some((*text).to_owned()),
                    ..RawBatchPrompt::default()
                })
                .collect(),
        ),
        model_id: Some(model.id.to_string()),
        model_version: Some("v-batch".into()),
        ..RawBatchRequest::default()
    })
    .unwrap()
}

/// A stored generation of `user()` in `status`, with a prediction once at the provider.
pub(super) fn generation(prompt: &str, status: GenerationStatus) -> Generation {
    let model = sample_model();
    let id = GenerationId::new_random();
    Generation {
        record: NewGeneration {
            id,
            user_id: user(),
            model_id: Some(model.id),
            model_name: Some(model.spec.name.clone()),
            provider: ProviderName::REPLICATE,
            prompt: prompt.to_owned(),
            negative_prompt: None,
            style: None,
            source_image_url: None,
            params: crate::GenerationParams {
                width: 1024,
                height: 1024,
                steps: 4,
                guidance_scale: 3.5,
                seed: None,
                generation_strength: None,
            },
            created_at: DateTime::UNIX_EPOCH,
        },
        status,
        prediction_id: (status == GenerationStatus::Processing)
            .then(|| PredictionId::parse(format!("p-{id}")).unwrap()),
        error_message: None,
        generation_time_seconds: None,
        billing: Billing::Free,
        ledger: Ledger::Local,
        credits_used: 0,
        completed_at: None,
    }
}

/// Batch `id` of `user()` with items `(status, retry_count)` at indexes 0...
pub(super) fn detail(id: BatchId, items: &[(GenerationStatus, u32)]) -> BatchDetail {
    let mut counts = BatchCounts::default();
    let items = (0_u32..)
        .zip(items)
        .map(|(index, &(status, retry_count))| {
            counts.add(status, 1);
            BatchItem {
                generation: generation(&format!("prompt {index}"), status),
                index,
                retry_count,
                image_url: None,
            }
        })
        .collect();
    BatchDetail {
        summary: BatchSummary {
            batch: NewBatch {
                id,
                user_id: user(),
                name: "Batch".into(),
                model_id: sample_model().id,
                model_version: None,
                width: 1024,
                height: 1024,
                steps: 4,
                guidance_scale: 3.5,
                created_at: DateTime::UNIX_EPOCH,
            },
            counts,
            completed_at: None,
        },
        items,
    }
}

/// What a queue call was asked: its funds, the new batch, the items.
pub(super) type QueueCall = (Funds, Option<NewBatch>, Vec<NewBatchItem>);

/// What a retry asked to queue: the batch, the failed items replaced, the items.
pub(super) type RetryCall = (BatchId, Vec<GenerationId>, Vec<NewBatchItem>);

pub(super) fn queued_answer() -> Queued {
    Queued {
        free_generations_remaining: 0,
        balance_after: None,
    }
}
