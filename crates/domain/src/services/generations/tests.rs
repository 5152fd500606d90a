//! Unit tests of the pipeline with mockall mocks of every port.

use chrono::DateTime;

use super::*;
use crate::freemium::AccessDecision;
use crate::generation::Billing;
use crate::model::tests::sample_model;
use crate::params::RawGenerationRequest;
use crate::ports::{
    Created, Funds, MockClock, MockCreditAccounts, MockCreditLedger, MockGenerationRepository,
    MockIdempotencyStore, MockImageProvider, MockImageRepository, MockModelCatalog,
    MockObjectStore, MockOutputFetcher,
};
use crate::services::credits::{CreditPorts, CreditService};
use crate::{CreditAmount, Enforcement};
// The domain types the tests below (and their submodules) use.
use crate::freemium::{FreemiumPolicy, InsufficientCredits};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, PredictionId, UserId};
use crate::image::Image;
use crate::params::GenerationRequest;
use crate::ports::{ProviderError, ProviderState, Refusal, Transition};

mod inline;
mod lifecycle;
mod money;
mod provider_polls;
mod storage_failure;

/// A mock of every port the pipeline and its credit service use.
pub(super) struct Mocks {
    pub(super) models: MockModelCatalog,
    pub(super) generations: MockGenerationRepository,
    pub(super) images: MockImageRepository,
    pub(super) provider: MockImageProvider,
    pub(super) fetcher: MockOutputFetcher,
    pub(super) store: MockObjectStore,
    pub(super) accounts: MockCreditAccounts,
    pub(super) remote: Option<MockCreditLedger>,
    pub(super) fail_open: bool,
    pub(super) idempotency: MockIdempotencyStore,
    /// A clock of the test's own instead of the fixed one.
    pub(super) clock: Option<Arc<dyn Clock>>,
    /// A fetcher of the test's own instead of `fetcher`.
    pub(super) own_fetcher: Option<Arc<dyn crate::ports::OutputFetcher>>,
    /// Whether `provider` answers with the image in its submit (an inline provider).
    pub(super) inline: bool,
}

/// Runs background tasks on the test's runtime.
pub(super) struct Spawned;

impl crate::ports::Background for Spawned {
    fn spawn(&self, task: crate::ports::BackgroundTask) {
        tokio::spawn(task);
    }
}

impl Mocks {
    pub(super) fn new() -> Self {
        Self {
            models: MockModelCatalog::new(),
            generations: MockGenerationRepository::new(),
            images: MockImageRepository::new(),
            provider: MockImageProvider::new(),
            fetcher: MockOutputFetcher::new(),
            store: MockObjectStore::new(),
            accounts: MockCreditAccounts::new(),
            remote: None,
            fail_open: false,
            idempotency: MockIdempotencyStore::new(),
            clock: None,
            own_fetcher: None,
            inline: false,
        }
    }

    /// The catalogue answers `sample_model()` for any id.
    pub(super) fn with_model(&mut self) {
        let model = sample_model();
        self.models
            .expect_get()
            .returning(move |_| Ok(Some(model.clone())));
    }

    /// The user's account shows `free_used` free generations taken.
    pub(super) fn with_free_used(&mut self, free_used: u32) {
        self.accounts.expect_account().returning(move |_| {
            Ok(crate::ports::CreditAccount {
                free_generations_used: free_used,
                ..crate::ports::CreditAccount::default()
            })
        });
    }

    pub(super) fn service(self) -> GenerationServices {
        self.service_with(PipelineSettings {
            callbacks: None,
            sync_timeout: Duration::ZERO,
            poll_interval: Duration::ZERO,
            finalize_lease: Duration::from_secs(60),
            pending_timeout: Duration::from_secs(600),
            reconciler_interval: Duration::from_secs(30),
            idempotency_ttl: Duration::from_secs(86_400),
            provider_poll_min_interval: Duration::from_secs(2),
        })
    }

    pub(super) fn service_with(self, settings: PipelineSettings) -> GenerationServices {
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(DateTime::UNIX_EPOCH);
            clock.expect_sleep().return_const(());
            Arc::new(clock)
        });
        let generations: Arc<dyn GenerationRepository> = Arc::new(self.generations);
        let policy = FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Enforce);
        let credits = CreditService::new(
            CreditPorts {
                accounts: Arc::new(self.accounts),
                remote: self
                    .remote
                    .map(|remote| Arc::new(remote) as Arc<dyn crate::ports::CreditLedger>),
                generations: generations.clone(),
                clock: Arc::clone(&clock),
            },
            policy,
            self.fail_open,
        );
        let mut provider = self.provider;
        provider
            .expect_answers_in_submit()
            .return_const(self.inline);
        let ports = PipelinePorts {
            models: Arc::new(self.models),
            generations,
            images: Arc::new(self.images),
            providers: Providers::new().with(crate::ProviderName::REPLICATE, Arc::new(provider)),
            fetcher: self.own_fetcher.unwrap_or_else(|| Arc::new(self.fetcher)),
            store: Arc::new(self.store),
            renderer: crate::services::fakes::placeholder_renderer(),
            clock,
            idempotency: Arc::new(self.idempotency),
            background: Arc::new(Spawned),
        };
        GenerationServices::new(ports, credits, settings)
    }
}

pub(super) fn request(model: &crate::Model) -> GenerationRequest {
    GenerationRequest::parse(RawGenerationRequest {
        prompt: Some("a cat".into()),
        model_id: Some(model.id.to_string()),
        ..RawGenerationRequest::default()
    })
    .unwrap()
}

pub(super) fn generation_for(new: &NewGeneration) -> Generation {
    Generation {
        record: new.clone(),
        status: GenerationStatus::Pending,
        prediction_id: None,
        error_message: None,
        generation_time_seconds: None,
        billing: Billing::Free,
        ledger: crate::money::Ledger::Local,
        credits_used: 0,
        completed_at: None,
    }
}

pub(super) fn user() -> UserId {
    UserId::parse("u").unwrap()
}

#[tokio::test]
async fn an_inactive_model_is_not_found_and_nothing_is_recorded() {
    let mut mocks = Mocks::new();
    let mut model = sample_model();
    model.spec.is_active = false;
    let found = model.clone();
    mocks
        .models
        .expect_get()
        .returning(move |_| Ok(Some(found.clone())));
    mocks.generations.expect_create().times(0);
    let result = mocks.service().start.start(&user(), request(&model)).await;
    assert!(matches!(result, Err(GenerateError::ModelNotFound)));
}

#[tokio::test]
async fn a_refusal_submits_nothing() {
    let mut mocks = Mocks::new();
    let model = sample_model();
    mocks.with_model();
    mocks
        .generations
        .expect_create()
        .times(1)
        .returning(|_, _, _| {
            Ok(Err(Refusal::Insufficient(InsufficientCredits {
                required: CreditAmount::new(10).unwrap(),
                balance: CreditAmount::ZERO,
                free_generations_remaining: 0,
            })))
        });
    mocks.provider.expect_submit().times(0);
    let result = mocks.service().start.start(&user(), request(&model)).await;
    assert!(matches!(result, Err(GenerateError::Insufficient(_))));
}

#[tokio::test]
async fn an_async_submit_answers_what_it_wrote_without_reading_it_back() {
    let mut mocks = Mocks::new();
    let model = sample_model();
    mocks.with_model();
    mocks
        .generations
        .expect_create()
        .times(1)
        .returning(|new, _, _| {
            Ok(Ok(Created {
                generation: generation_for(new),
                decision: AccessDecision::Free { remaining_after: 2 },
                free_generations_remaining: 2,
                balance_after: None,
            }))
        });
    mocks.provider.expect_submit().times(1).returning(|_| {
        Ok(crate::ports::Submission {
            prediction_id: PredictionId::parse("pred-9").unwrap(),
            state: ProviderState::Starting,
        })
    });
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| matches!(t, Transition::Processing { .. }))
        .times(1)
        .returning(|_, _, _| Ok(true));
    mocks.generations.expect_find().times(0);

    let started = mocks
        .service()
        .start
        .start(&user(), request(&model))
        .await
        .unwrap();

    let generation = &started.view.generation;
    assert_eq!(generation.status, GenerationStatus::Processing);
    assert_eq!(
        generation.prediction_id.as_ref().unwrap().as_str(),
        "pred-9"
    );
    assert_eq!(generation.record.prompt, "a cat");
    assert!(started.view.image.is_none());
    assert_eq!(started.free_generations_remaining, 2);
}

#[tokio::test]
async fn a_provider_refusal_fails_the_generation_which_gives_its_access_back() {
    let mut mocks = Mocks::new();
    let model = sample_model();
    mocks.with_model();
    mocks
        .generations
        .expect_create()
        .withf(|_, _, funds| *funds == Funds::Local)
        .returning(|new, _, _| {
            Ok(Ok(Created {
                generation: generation_for(new),
                decision: AccessDecision::Free { remaining_after: 2 },
                free_generations_remaining: 2,
                balance_after: Some(CreditAmount::ZERO),
            }))
        });
    mocks
        .provider
        .expect_submit()
        .withf(|r| r.model_ref == "owner/sample" && r.negative_prompt.is_none())
        .times(1)
        .returning(|_| Err(ProviderError::Unauthorized));
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| matches!(t, Transition::Failed { .. }))
        .times(1)
        .returning(|_, _, _| Ok(true));
    mocks.generations.expect_find().returning(|_| Ok(None));
    let result = mocks.service().start.start(&user(), request(&model)).await;
    assert!(matches!(
        result,
        Err(GenerateError::Provider(ProviderError::Unauthorized))
    ));
}

#[tokio::test]
async fn a_success_report_without_the_claim_downloads_nothing() {
    let mut mocks = Mocks::new();
    let new = NewGeneration {
        id: GenerationId::new_random(),
        user_id: user(),
        model_id: None,
        model_name: None,
        provider: crate::ProviderName::REPLICATE,
        prompt: "p".into(),
        negative_prompt: None,
        style: None,
        source_image_url: None,
        params: request(&sample_model()).resolve(&sample_model()),
        created_at: DateTime::UNIX_EPOCH,
    };
    let mut processing = generation_for(&new);
    processing.status = GenerationStatus::Processing;
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(move |_| Ok(Some(processing.clone())));
    mocks
        .generations
        .expect_claim_finalization()
        .times(1)
        .returning(|_, _, _| Ok(None));
    mocks.fetcher.expect_fetch().times(0);
    let state = ProviderState::Succeeded {
        outputs: vec![crate::ports::ImageSource::Url(
            "https://replicate.delivery/a.png".into(),
        )],
        predict_time: None,
    };
    let prediction = PredictionId::parse("p").unwrap();
    let applied = mocks
        .service()
        .finalize
        .on_provider_report(&crate::ProviderName::REPLICATE, &prediction, state, None)
        .await
        .unwrap();
    assert_eq!(applied, Some(new.id));
}

#[tokio::test]
async fn a_report_for_an_unknown_prediction_changes_nothing() {
    let mut mocks = Mocks::new();
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(|_| Ok(None));
    mocks.generations.expect_transition().times(0);
    let prediction = PredictionId::parse("stranger").unwrap();
    let applied = mocks
        .service()
        .finalize
        .on_provider_report(
            &crate::ProviderName::REPLICATE,
            &prediction,
            ProviderState::Canceled,
            None,
        )
        .await
        .unwrap();
    assert_eq!(applied, None);
}
