//! The practical ceiling the issue names: a bare actix-web handler that runs the gallery's
//! repository call on the same diesel-async pool and answers the same JSON bytes, with nothing
//! else — no token, no middleware, no request log, no metrics. Run as a child process on the
//! server's cores, so the gallery's rate is compared with it in the same run.

use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use picture_domain::UserId;
use picture_domain::ports::ImageRepository;
use picture_persistence::DieselImageRepository;
use picture_server::dto::ImageDto;
use tokio::process::{Child, Command};

use crate::direct::{first_page, repository};

/// What the one handler needs.
struct Gallery {
    repository: Arc<DieselImageRepository>,
    user: UserId,
}

/// `GET /api/v1/images`: the first page of the fixed user's gallery as the server's JSON.
async fn first_page_json(gallery: web::Data<Gallery>) -> HttpResponse {
    match gallery
        .repository
        .list_for_user(&gallery.user, first_page())
        .await
    {
        Ok(found) => {
            let page: Vec<ImageDto> = found.iter().map(ImageDto::from).collect();
            match serde_json::to_vec(&page) {
                Ok(body) => HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body),
                Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
            }
        }
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

/// `picture-bench bare …`: serves on a free loopback port, printed as the first stdout line,
/// until killed. One worker per core it may run on, as the server's default.
pub async fn main(args: &BareArgs) -> anyhow::Result<()> {
    let gallery = web::Data::new(Gallery {
        repository: repository(&args.url).await?,
        user: UserId::parse(&args.user)?,
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    HttpServer::new(move || {
        App::new()
            .app_data(gallery.clone())
            .route("/api/v1/images", web::get().to(first_page_json))
    })
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}

/// Arguments of the `bare` subcommand.
#[derive(Debug, clap::Args)]
pub struct BareArgs {
    /// Database URL.
    #[arg(long)]
    pub url: String,
    /// Whose gallery every request reads.
    #[arg(long)]
    pub user: String,
}

/// A running bare handler; killed when dropped.
pub struct BareServer {
    /// Its address.
    pub addr: std::net::SocketAddr,
    child: Child,
}

impl BareServer {
    /// Starts `command` (the harness's `bare` subcommand) and waits for its port.
    pub async fn start(mut command: Command) -> anyhow::Result<Self> {
        use tokio::io::AsyncBufReadExt;
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("the bare handler has no stdout"))?;
        let mut line = String::new();
        tokio::io::BufReader::new(stdout)
            .read_line(&mut line)
            .await?;
        let port: u16 = line
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("the bare handler did not print its port: {line:?}"))?;
        Ok(Self {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        })
    }

    /// Its process id, for the RSS sampler.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .id()
            .ok_or_else(|| anyhow::anyhow!("the bare handler has exited"))
    }
}
