% rebase('base.tpl', title=_('API tokens'), back_path='/tokens')
<h1>{{_('API token')}} {{t.name}}</h1>
<p>{{_('Token (shown only now; copy it into the program or pair the wallboard with it):')}}</p>
<p><code class="secret" id="token-secret">{{secret}}</code></p>
<p><a href="/tokens" id="back-to-list">{{_('Back to the list')}}</a></p>
