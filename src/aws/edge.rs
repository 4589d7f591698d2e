//! What faces clients: ACM certificates (key algorithm, expiry) and Application Load
//! Balancers with their listeners.

use super::attrs::{reference, Attrs};
use super::call::Failure;
use super::Scope;
use crate::model::Model;
use aws_smithy_types::date_time::Format;
use futures::StreamExt;

pub async fn collect_acm(scope: &Scope) -> Model {
    let acm = aws_sdk_acm::Client::from_conf(aws_sdk_acm::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    // ListCertificates returns only RSA-2048 certificates unless asked for every key type.
    let mut every_key = aws_sdk_acm::types::Filters::builder();
    for key_type in aws_sdk_acm::types::KeyAlgorithm::values() {
        every_key = every_key.key_types(aws_sdk_acm::types::KeyAlgorithm::from(*key_type));
    }
    let listed = acm.list_certificates().includes(every_key.build()).into_paginator().items().send().collect::<Vec<_>>().await;
    let listed = match listed.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(listed) => listed,
        Err(error) => {
            scope.unseen(&mut model, &Failure::of("acm:ListCertificates", &error), &["aws_acm_certificate"], "acm", ":certificate/*");
            return model;
        }
    };
    let described = futures::stream::iter(listed.iter().filter_map(|c| c.certificate_arn()))
        .map(|arn| acm.describe_certificate().certificate_arn(arn).send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (arn, answer) in listed.iter().filter_map(|c| c.certificate_arn()).zip(described) {
        let certificate = match answer {
            Ok(answer) => answer.certificate().cloned(),
            Err(error) => {
                scope.unseen(&mut model, &Failure::of("acm:DescribeCertificate", &error), &["aws_acm_certificate"], "acm", &format!(":certificate/{}", arn.rsplit('/').next().unwrap_or(arn)));
                continue;
            }
        };
        let Some(certificate) = certificate else { continue };
        // Certificates still being validated have no key in use yet.
        let status = certificate.status().map(|s| s.as_str()).unwrap_or_default();
        if matches!(status, "PENDING_VALIDATION" | "VALIDATION_TIMED_OUT" | "FAILED") {
            continue;
        }
        let attrs = Attrs::new()
            .set("id", arn)
            .set("arn", arn)
            .opt("domain_name", certificate.domain_name())
            .opt("key_algorithm", certificate.key_algorithm().map(|k| k.as_str()))
            .opt("not_after", certificate.not_after().and_then(|t| t.fmt(Format::DateTime).ok()))
            .set("status", status)
            .opt("type", certificate.r#type().map(|t| t.as_str()))
            .set("in_use", !certificate.in_use_by().is_empty());
        model.resources.push(scope.resource("aws_acm_certificate", arn.to_string(), attrs));
    }
    model
}

pub async fn collect_elbv2(scope: &Scope) -> Model {
    let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
        aws_sdk_elasticloadbalancingv2::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build(),
    );
    let mut model = Model::default();
    let balancers = elb.describe_load_balancers().into_paginator().items().send().collect::<Vec<_>>().await;
    let balancers = match balancers.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(balancers) => balancers,
        Err(error) => {
            scope.unseen(&mut model, &Failure::of("elasticloadbalancing:DescribeLoadBalancers", &error), &["aws_lb", "aws_lb_listener"], "elasticloadbalancing", ":loadbalancer/*");
            return model;
        }
    };
    let listeners = futures::stream::iter(balancers.iter().filter_map(|b| b.load_balancer_arn()))
        .map(|arn| elb.describe_listeners().load_balancer_arn(arn).into_paginator().items().send().collect::<Vec<_>>())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (balancer, listeners) in balancers.iter().filter(|b| b.load_balancer_arn().is_some()).zip(listeners) {
        let arn = balancer.load_balancer_arn().unwrap_or_default();
        let attrs = Attrs::new()
            .set("id", arn)
            .set("arn", arn)
            .opt("name", balancer.load_balancer_name())
            .set("internal", balancer.scheme().map(|s| s.as_str()) == Some("internal"))
            .opt("load_balancer_type", balancer.r#type().map(|t| t.as_str()));
        model.resources.push(scope.resource("aws_lb", arn.to_string(), attrs));
        match listeners.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(listeners) => model.resources.extend(listeners.iter().filter_map(|l| listener(scope, arn, l))),
            Err(error) => scope.unseen(
                &mut model,
                &Failure::of("elasticloadbalancing:DescribeListeners", &error),
                &["aws_lb_listener", "aws_lb"],
                "elasticloadbalancing",
                &format!(":listener/{}", arn.split_once(":loadbalancer/").map_or(arn, |(_, rest)| rest)),
            ),
        }
    }
    model
}

fn listener(scope: &Scope, balancer: &str, listener: &aws_sdk_elasticloadbalancingv2::types::Listener) -> Option<crate::model::Resource> {
    let arn = listener.listener_arn()?;
    let actions = listener.default_actions().iter().map(|a| {
        let redirect = a.redirect_config().map(|r| Attrs::new().opt("protocol", r.protocol()).opt("port", r.port()).opt("status_code", r.status_code().map(|s| s.as_str())));
        Attrs::new().opt("type", a.r#type().map(|t| t.as_str())).block("redirect", redirect)
    });
    let certificate = listener.certificates().iter().find(|c| c.is_default() != Some(false)).and_then(|c| c.certificate_arn());
    let attrs = Attrs::new()
        .set("id", arn)
        .set("arn", arn)
        .set("load_balancer_arn", reference(balancer, "arn"))
        .opt("port", listener.port())
        .opt("protocol", listener.protocol().map(|p| p.as_str()))
        .opt("ssl_policy", listener.ssl_policy())
        .opt("certificate_arn", certificate)
        .blocks("default_action", actions);
    Some(scope.resource("aws_lb_listener", arn.to_string(), attrs))
}
