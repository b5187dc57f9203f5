"""The shop's legal pages: French drafts the owner completes in the admin (flatpages).

Each draft holds placeholders in square brackets (« [Raison sociale] », « [SIRET] »…) for
what only the owner knows. The drafts follow French law for a shop selling to consumers
at a distance (Code de la consommation, LCEN, RGPD); the owner, not the software, answers
for what they finally say.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class LegalPage:
    slug: str
    title: str
    content: str

    @property
    def url(self) -> str:
        return f"/pages/{self.slug}/"


MENTIONS_LEGALES = """
<p>Conformément à l'article 6 de la loi n° 2004-575 du 21 juin 2004 pour la confiance dans
l'économie numérique (LCEN), voici qui édite et héberge ce site.</p>

<h2>Éditeur</h2>
<ul>
  <li>[Raison sociale ou nom et prénom de l'entrepreneur individuel]</li>
  <li>Forme juridique : [forme, par exemple EI, EURL, SAS] — capital social : [montant] €</li>
  <li>Siège : [adresse postale complète]</li>
  <li>Téléphone : [numéro] — e-mail : [adresse e-mail]</li>
  <li>SIRET : [SIRET] — RCS ou RNE : [ville et numéro d'immatriculation]</li>
  <li>N° de TVA intracommunautaire : [numéro de TVA, ou « TVA non applicable, art. 293 B du
    CGI »]</li>
  <li>Directeur ou directrice de la publication : [nom et prénom]</li>
</ul>

<h2>Hébergeur</h2>
<ul>
  <li>[Nom de l'hébergeur]</li>
  <li>[Adresse de l'hébergeur]</li>
  <li>[Téléphone de l'hébergeur]</li>
</ul>

<h2>Propriété intellectuelle</h2>
<p>Les textes et photographies de ce site appartiennent à [Raison sociale] ou à leurs
auteurs. Toute reproduction sans autorisation est interdite.</p>

<h2>Contact</h2>
<p>Pour toute question : [adresse e-mail], ou par courrier à l'adresse du siège.</p>
"""

CGV = """
<p>Conditions générales de vente en vigueur au [date], applicables à toute commande passée
sur ce site par un consommateur.</p>

<h2>1. Vendeur</h2>
<p>[Raison sociale], [forme juridique], [adresse du siège], SIRET [SIRET], e-mail
[adresse e-mail], téléphone [numéro]. Voir aussi les
<a href="/pages/mentions-legales/">mentions légales</a>.</p>

<h2>2. Pièces proposées</h2>
<p>Chaque pièce est unique et décrite aussi fidèlement que possible, photos à l'appui. Les
pièces anciennes ou d'occasion peuvent présenter des traces d'usage, signalées dans leur
description. Une pièce n'est vendue qu'une fois : tant que le paiement n'est pas confirmé,
elle peut être réservée par un autre client.</p>

<h2>3. Prix</h2>
<p>Les prix sont indiqués en euros, toutes taxes comprises [ou : « TVA non applicable,
art. 293 B du CGI »]. Les frais de livraison sont indiqués avant le paiement et s'ajoutent
au prix des pièces.</p>

<h2>4. Commande</h2>
<p>Le client ajoute les pièces à son panier, accepte les présentes conditions puis clique
sur « Commander ». Il est alors dirigé vers la page de paiement sécurisée de Stripe, où il
vérifie le détail et le total de sa commande avant de payer. La vente est conclue dès la
confirmation du paiement ; un e-mail récapitulatif est alors envoyé au client.</p>

<h2>5. Paiement</h2>
<p>Le paiement s'effectue en ligne par Stripe (carte bancaire et autres moyens proposés sur
la page de paiement). Le vendeur n'a jamais connaissance des données bancaires du client.
Si deux clients paient la même pièce au même instant, le second est remboursé
intégralement et automatiquement.</p>

<h2>6. Livraison</h2>
<p>Les pièces sont livrées à l'adresse indiquée lors du paiement, dans les pays proposés, en
[délai] jours ouvrés après la confirmation du paiement, au plus tard dans les trente jours.
Voir la page <a href="/pages/livraison-retours/">« Livraison et retours »</a>. Le client
vérifie le colis à la réception et signale tout dommage au transporteur et au vendeur sous
[nombre] jours.</p>

<h2>7. Droit de rétractation</h2>
<p>Conformément aux articles L221-18 et suivants du Code de la consommation, le client
dispose d'un délai de <strong>quatorze jours</strong> à compter de la réception de la pièce
pour exercer son droit de rétractation, sans avoir à motiver sa décision ni à supporter
d'autres coûts que ceux du renvoi.</p>
<p>Pour l'exercer, il informe le vendeur de sa décision par une déclaration dénuée
d'ambiguïté (courrier à [adresse postale] ou e-mail à [adresse e-mail]), par exemple au
moyen du formulaire ci-dessous, qui n'est pas obligatoire.</p>
<p>Il renvoie la pièce, dans son état d'origine et bien protégée, au plus tard quatorze jours
après avoir communiqué sa décision, à [adresse de retour]. Les frais de renvoi sont à sa
charge [ou : « sont pris en charge par le vendeur »].</p>
<p>Le vendeur rembourse la totalité des sommes versées, frais de livraison initiaux compris
(sur la base du mode de livraison standard), au plus tard quatorze jours après avoir été
informé de la décision, par le moyen de paiement utilisé lors de la commande. Il peut
différer le remboursement jusqu'à la récupération de la pièce ou jusqu'à la preuve de son
expédition. La dépréciation d'une pièce résultant de manipulations autres que celles
nécessaires pour en établir la nature, les caractéristiques et le bon fonctionnement peut
être retenue sur le remboursement.</p>

<h3>Exceptions</h3>
<p>Conformément à l'article L221-28 du Code de la consommation, le droit de rétractation ne
peut pas être exercé notamment pour :</p>
<ul>
  <li>les biens confectionnés selon les spécifications du client ou nettement personnalisés
    (une pièce réalisée ou modifiée sur commande, par exemple) ;</li>
  <li>les biens susceptibles de se détériorer ou de se périmer rapidement ;</li>
  <li>les biens descellés par le client après la livraison qui ne peuvent être renvoyés pour
    des raisons d'hygiène ou de protection de la santé ;</li>
  <li>[autres exceptions applicables, le cas échéant].</li>
</ul>
<p>Les pièces uniques du catalogue, anciennes ou d'occasion, ne relèvent pas de ces
exceptions du seul fait qu'elles sont uniques : le droit de rétractation s'y applique.</p>

<h3>Formulaire de rétractation</h3>
<p>(Complétez et renvoyez ce formulaire uniquement si vous souhaitez vous rétracter.)</p>
<blockquote>
  <p>À l'attention de [Raison sociale], [adresse postale], [adresse e-mail] :</p>
  <p>Je vous notifie par la présente ma rétractation du contrat portant sur la vente du bien
  ci-dessous :</p>
  <p>Commandé le : ……… / reçu le : ………<br>
  Référence de la commande : ………<br>
  Nom du consommateur : ………<br>
  Adresse du consommateur : ………<br>
  Signature du consommateur (uniquement en cas de notification sur papier) : ………<br>
  Date : ………</p>
</blockquote>

<h2>8. Garanties légales</h2>
<p>Toutes les pièces bénéficient de la garantie légale de conformité (articles L217-3 et
suivants du Code de la consommation) et de la garantie des vices cachés (articles 1641 et
suivants du Code civil).</p>
<p>Au titre de la garantie légale de conformité, le client dispose d'un délai de deux ans à
compter de la délivrance du bien pour agir ; il peut obtenir la réparation ou le
remplacement du bien, ou à défaut une réduction du prix ou la résolution de la vente. Pour
les biens d'occasion, le défaut de conformité apparu dans les douze mois suivant la
délivrance est présumé exister au moment de celle-ci. Une pièce unique ne pouvant être
remplacée, la mise en conformité se fait par réparation, réduction du prix ou
remboursement.</p>
<p>Au titre de la garantie des vices cachés, le client peut, dans les deux ans de la
découverte du vice, demander la résolution de la vente ou une réduction du prix.</p>

<h2>9. Données personnelles</h2>
<p>Voir la page <a href="/pages/confidentialite/">« Confidentialité »</a>.</p>

<h2>10. Médiation et litiges</h2>
<p>En cas de litige, le client s'adresse d'abord au vendeur à [adresse e-mail]. À défaut
d'accord, il peut recourir gratuitement au médiateur de la consommation : [nom du médiateur,
adresse postale et site internet]. Les présentes conditions sont soumises au droit
français.</p>
"""

CONFIDENTIALITE = """
<p>Cette page dit quelles données personnelles la boutique traite, pourquoi, et quels sont
vos droits (règlement général sur la protection des données, RGPD).</p>

<h2>Responsable du traitement</h2>
<p>[Raison sociale], [adresse du siège], [adresse e-mail].</p>

<h2>Données traitées et finalités</h2>
<ul>
  <li><strong>Commandes</strong> : nom, adresse de livraison, téléphone, e-mail, pièces
    achetées et montants, pour exécuter la vente, livrer et répondre aux questions (base
    légale : le contrat), puis pour la comptabilité (base légale : obligation légale).</li>
  <li><strong>Paiement</strong> : les données de paiement sont saisies sur la page de Stripe et
    traitées par Stripe ; la boutique n'en reçoit qu'une référence.</li>
  <li><strong>Journaux techniques</strong> : adresse IP et pages demandées, pour la sécurité du
    site (base légale : intérêt légitime), conservés [durée].</li>
</ul>

<h2>Destinataires</h2>
<p>Stripe (paiement), [hébergeur] (hébergement), [transporteur] (livraison), et
l'administration lorsque la loi l'exige. [Indiquer si des données sont transférées hors de
l'Union européenne et sous quelles garanties.]</p>

<h2>Durées de conservation</h2>
<p>Les données de commande sont conservées le temps de la relation commerciale puis archivées
dix ans pour les obligations comptables. [Autres durées.]</p>

<h2>Cookies</h2>
<p>La boutique ne dépose aucun cookie de mesure d'audience, de publicité ou de suivi. Elle
n'utilise que des cookies nécessaires à son fonctionnement, exemptés de consentement :</p>
<ul>
  <li><code>sessionid</code> : votre panier (et la session de l'administration pour le
    propriétaire) ; expire après deux semaines ;</li>
  <li><code>csrftoken</code> : protège les formulaires contre les requêtes frauduleuses ;
    expire après un an ;</li>
  <li><code>messages</code> : affiche un message après une action (« ajoutée à votre
    panier ») ; supprimé dès qu'il est lu.</li>
</ul>
<p>La page de paiement de Stripe, sur le domaine de Stripe, dépose ses propres cookies,
nécessaires à la sécurité du paiement.</p>

<h2>Vos droits</h2>
<p>Vous pouvez accéder à vos données, les faire rectifier ou effacer, vous opposer à leur
traitement ou en demander la limitation ou la portabilité, en écrivant à [adresse e-mail].
Vous pouvez aussi introduire une réclamation auprès de la CNIL (www.cnil.fr).</p>
"""

LIVRAISON_RETOURS = """
<h2>Livraison</h2>
<p>Les pièces sont emballées avec soin et expédiées par [transporteur] sous [délai] jours
ouvrés après la confirmation du paiement, avec un numéro de suivi envoyé par e-mail.</p>
<ul>
  <li>Pays de livraison : [pays].</li>
  <li>Frais de livraison : [montant] € par commande, offerts dès [montant] € d'achat ; le
    montant exact est indiqué avant le paiement.</li>
  <li>Retrait sur place : [possible sur rendez-vous à l'adresse… / non proposé].</li>
</ul>
<p>À la réception, vérifiez le colis en présence du livreur si possible, et signalez tout
dommage sous [nombre] jours à [adresse e-mail], photos à l'appui.</p>

<h2>Retours</h2>
<p>Vous disposez de quatorze jours après la réception pour changer d'avis (droit de
rétractation, voir les <a href="/pages/cgv/">conditions générales de vente</a>). Écrivez-nous
à [adresse e-mail], puis renvoyez la pièce bien protégée à [adresse de retour]. Les frais de
retour sont à votre charge [ou : « offerts »]. Vous êtes remboursé sous quatorze jours, frais
de livraison initiaux compris.</p>
"""

LEGAL_PAGES: list[LegalPage] = [
    LegalPage("mentions-legales", "Mentions légales", MENTIONS_LEGALES),
    LegalPage("cgv", "Conditions générales de vente", CGV),
    LegalPage("confidentialite", "Confidentialité", CONFIDENTIALITE),
    LegalPage("livraison-retours", "Livraison et retours", LIVRAISON_RETOURS),
]


def create_legal_pages(*, flatpage_model: Any = None, site_model: Any = None) -> int:
    """Create the legal pages that are missing (never overwrites the owner's text).

    Takes the models so that a data migration can pass its historical ones. Returns how
    many pages were created.
    """
    if flatpage_model is None or site_model is None:
        from django.contrib.flatpages.models import FlatPage
        from django.contrib.sites.models import Site

        flatpage_model, site_model = FlatPage, Site
    # The site is usually created after all migrations; the pages need it now.
    site, _ = site_model.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"domain": "example.com", "name": "example.com"}
    )
    created = 0
    for page in LEGAL_PAGES:
        flatpage, was_created = flatpage_model.objects.get_or_create(
            url=page.url, defaults={"title": page.title, "content": page.content.strip()}
        )
        if was_created:
            flatpage.sites.add(site)
            created += 1
    return created
